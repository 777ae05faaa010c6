// The two statements behind every permit, on convlog.rate_budgets (rate-budget.ts runs them and
// explains the model). Each is ONE atomic statement: it locks the budget's row, rolls the fixed
// window, and updates it. `now` stands for the database clock unless a parameter replaces it.
//
// Every step is a MATERIALIZED CTE of one row. Inlined, each step's columns were substituted
// into the next step's expressions, so the last ones held the whole chain many times over: on
// each connection's first five permits (custom plans) Postgres took about 10 ms to plan one and
// 8 ms to run it, and 1.5 ms a permit after that; materialized, 1-2 ms at first and 0.7 ms after
// (measured on the project's machine; test/budget/permit.test.ts checks the plans).

/** Permits go at once, unpaced, until this share of the window's allowance is spent. */
export const FREE_SHARE = 0.5;

/**
 * A process takes part in a budget from its first permit until it releases its entry (as it
 * closes) or, killed, until this many windows have passed since it last asked for one: longer than
 * any wait between two of its asks (at most the rest of a window, or a 429's pause).
 */
export const TAKER_WINDOWS = 2;

/** The taker entry `entry` (state.takers: key -> [limit, last ask ms, process]) still takes part at `nowMs`. */
export const TAKING_PART = (entry: string, nowMs: string, windowMs: string) => `(${entry}->>1)::float8 > ${nowMs} - ${TAKER_WINDOWS} * ${windowMs}`;

export const NOW = (param: string) => `coalesce(${param}::float8, extract(epoch from clock_timestamp()) * 1000)`;

// The columns and state fields every statement starts from, read under the row lock; `now` is
// the parameter that may replace the database clock.
const current = (now: string) => `
  select b.name, b.window_ms::float8 as w, b.spent, b.state,
         extract(epoch from b.window_started_at) * 1000 as start_ms,
         coalesce(extract(epoch from b.paused_until) * 1000, 0) as paused_ms,
         ${NOW(now)} as now_ms,
         coalesce((b.state->>'observed')::int, 0) as observed,
         coalesce((b.state->>'refused')::int, 0) as refused,
         coalesce((b.state->>'carried')::int, 0) as carried,
         coalesce((b.state->>'others')::int, 0) as others,
         coalesce((b.state->>'maxUsed')::int, 0) as max_used,
         (b.state->>'lastAt')::float8 as last_at,
         (b.state->>'endLow')::float8 as end_low,
         (b.state->>'serverTotal')::int as server_total,
         (b.state->>'sharedAt')::float8 as shared_at,
         coalesce((b.state->>'aligned')::boolean, false) as aligned
    from convlog.rate_budgets b
   where b.name = $1
     for update`;

// Permits still unanswered when a window ends may reach Zendesk after its window rolled (a busy
// process sends a little late), so they count in the next window too, until an answer from the
// previous window says otherwise. Only this window's own permits are carried (those carried in
// are answered first), and only while Zendesk's headers tell us about answers at all.
const CARRY = `case when aligned then greatest(0, (spent - carried) - greatest(0, observed + refused - carried)) else 0 end`;

/**
 * $1 name, $2 this process's limit per window, $3 send margin (ms between a permit and its request
 * reaching Zendesk), $4 now (ms) or null for the database clock, $5 this taker's key, $6 the
 * process it is, in words ("pid 42 on host-a"). Records the taker, rolls the window, then grants the next send time if
 * the window has room under the lowest limit of the live takers and nobody is paused, or says how
 * long to wait. No row: no result (call ensureBudget).
 */
export const TAKE = `
with cur as materialized (${current('$4')}),
takers as materialized (
  -- The other processes taking permits (state.takers: key -> [limit, last ask ms, process]),
  -- without those gone quiet; the lowest limit of all, this one's included, applies.
  select coalesce(jsonb_object_agg(t.key, t.value), '{}'::jsonb) as live,
         min((t.value->>0)::int) as other_low,
         max((t.value->>0)::int) as other_high,
         (array_agg(t.value->>2 order by (t.value->>0)::int, t.key))[1] as other_low_who,
         (array_agg(t.key order by (t.value->>0)::int, t.key))[1] as other_low_key
    from cur cross join lateral jsonb_each(coalesce(cur.state->'takers', '{}'::jsonb)) t
   where t.key <> $5::text and ${TAKING_PART('t.value', 'cur.now_ms', 'cur.w')}
),
rolled as materialized (
  select cur.*, takers.*, least($2::int, coalesce(takers.other_low, $2::int)) as lim,
         greatest(0, floor((now_ms - start_ms) / w))::int as passed
    from cur, takers
),
win as materialized (
  select rolled.*, least(1000, w / 20) as lag,
         start_ms + passed * w as w_start,
         start_ms + (passed + 1) * w as w_end,
         case passed when 0 then spent when 1 then ${CARRY} else 0 end as w_spent,
         case passed when 0 then carried when 1 then ${CARRY} else 0 end as w_carried,
         case passed when 0 then observed else 0 end as w_observed,
         case passed when 0 then refused else 0 end as w_refused,
         case passed when 0 then others else 0 end as w_others,
         case passed when 0 then max_used else 0 end as w_max_used,
         case passed when 0 then last_at end as w_last,
         end_low + passed * w as w_end_low
    from rolled
),
plan as materialized (
  select win.*,
         -- Another client spends: a response counted more requests than we had granted, in
         -- this window or the previous one. Without one, what the server counted may all be ours.
         coalesce(shared_at >= w_start - w, false) as shared,
         least(lim, coalesce(server_total, lim)) as cap,
         -- The last permit must reach Zendesk before the earliest moment its window can end;
         -- before the server has told us, keep a fifth of the window (at most 2 s) in hand.
         greatest(w_start + w / 2,
                  case when w_end_low is null then w_end - least(w / 5, 2000)
                       else least(w_end_low, w_end) - $3::float8 end) as pace_end,
         paused_ms > now_ms as paused
    from win
),
share as materialized (
  select plan.*,
         case when shared then w_others else 0 end as s_others,
         cap - (case when shared then w_others else 0 end) - w_spent as room,
         -- Another client that spent N so far is expected to go on at the same pace: keep what
         -- it will want in the rest of the window free. What we know of it is as old as our
         -- last answer (lag); it is judged after a tenth of the window.
         case when not shared or w_others = 0 then 0
              else w_others * greatest(0, w_end - now_ms + lag) / greatest(now_ms - lag - w_start, w / 10) end as reserve,
         not shared and w_spent < floor(cap * ${FREE_SHARE}) as free,
         -- Paced, up to a tenth of the window may still go ahead of its place.
         floor(lim / 10.0) * w / lim as burst
    from plan
),
schedule as materialized (
  -- The next permit's place in an even spacing of what is left over the time left (GCRA:
  -- lastAt is the place of the previous one).
  select share.*, room - reserve as avail,
         case when w_last is null then w_start
              else w_last + greatest(0, pace_end - w_last) / (greatest(room - reserve, 1) + 1) end as nominal
    from share
),
decision as materialized (
  select schedule.*, case when free then now_ms else greatest(now_ms, nominal - burst) end as slot
    from schedule
),
outcome as materialized (
  select decision.*,
         (not paused and avail >= 1 and slot < pace_end) as granted,
         case when not paused and avail >= 1 and slot < pace_end then slot - now_ms
              when paused then paused_ms - now_ms
              -- Room left but held for the other client: ask again when its share has shrunk enough.
              when room >= 2 and s_others > 0
                   and (s_others * (w_end + lag) + (room - 1) * (w_start + lag)) / (s_others + room - 1) < pace_end
                then greatest(50, (s_others * (w_end + lag) + (room - 1) * (w_start + lag)) / (s_others + room - 1) - now_ms)
              else w_end - now_ms + 1 end as wait
    from decision
)
update convlog.rate_budgets b
   set limit_per_window = o.lim,
       window_started_at = to_timestamp(o.w_start / 1000),
       spent = o.w_spent + o.granted::int,
       total_taken = b.total_taken + o.granted::int,
       total_wait_ms = b.total_wait_ms + round(greatest(0, o.wait))::bigint,
       state = b.state || jsonb_build_object(
         'observed', o.w_observed, 'refused', o.w_refused, 'carried', o.w_carried,
         'others', o.w_others, 'maxUsed', o.w_max_used,
         -- A burst leaves the schedule at its last permit, so what follows is spaced from there.
         'lastAt', case when not o.granted then o.w_last when o.free then o.slot else greatest(o.slot, o.nominal) end,
         'endLow', o.w_end_low,
         'waits', coalesce((b.state->>'waits')::bigint, 0) + (o.wait >= 1)::int,
         'takers', o.live || jsonb_build_object($5::text, jsonb_build_array($2::int, o.now_ms, $6::text)),
         -- The send time of the latest permit granted: when a request last went (status).
         'sentAt', case when o.granted then to_jsonb(o.slot) else coalesce(b.state->'sentAt', 'null'::jsonb) end),
       updated_at = clock_timestamp()
  from outcome o
 where b.name = o.name
returning o.granted, greatest(0, o.wait)::float8 as wait_ms, o.now_ms::float8 as now_ms, o.paused,
          o.lim as limit_applied, o.other_low, o.other_high, o.other_low_who,
          -- Its key too when its words are also this taker's or another's (containers sharing a
          -- hostname, each its process's pid 1), so that the words name it apart.
          case when o.other_low_who = $6::text
                 or exists (select from jsonb_each(o.live) l where l.key <> o.other_low_key and l.value->>2 = o.other_low_who)
               then o.other_low_key end as other_low_instance`;

/**
 * $1 name, $2 status, $3 total, $4 remaining, $5 resets ms, $6 Retry-After ms, $7 sent-after ms,
 * $8 now (ms) or null for the database clock.
 * Places the response in the server window its `resets` points to: the current one (refine the
 * window's end, learn what others spent), a later one (the server rolled before us: roll too),
 * or the previous one (a late answer: it releases a permit carried into this window).
 */
export const OBSERVE = `
with cur as materialized (${current('$8')}),
seen as materialized (
  select cur.*, start_ms + w as end_ms,
         case when $5::float8 is null then null else now_ms + $5::float8 end as cand
    from cur
),
placed as materialized (
  select seen.*,
         case when cand is null then 'none'
              when not aligned then 'align'
              when cand >= end_ms + w / 2 then 'ahead'
              when cand <= end_ms - w / 2 then 'late'
              else 'current' end as kind
    from seen
),
moved as materialized (
  select placed.*,
         kind in ('align', 'ahead', 'current') as here,
         case when kind = 'ahead' then ${CARRY} else spent end as a_spent,
         case when kind = 'ahead' then ${CARRY} else carried end as a_carried,
         case when kind = 'ahead' then 0 else observed end as a_observed,
         case when kind = 'ahead' then 0 else refused end as a_refused,
         case when kind = 'ahead' then 0 else others end as a_others,
         case when kind = 'ahead' then 0 else max_used end as a_max_used,
         case when kind = 'ahead' then null else last_at end as a_last,
         case when kind in ('ahead', 'align') then cand - w else start_ms end as a_start,
         case when kind = 'ahead' then end_low + w * round((cand - end_ms) / w)
              when kind = 'align' then null else end_low end as a_end_low
    from placed
),
applied as materialized (
  select moved.*,
         case when here then least(a_start, cand - w) else a_start end as f_start,
         a_observed + (here and $2::int <> 429)::int as f_observed,
         a_refused + (here and $2::int = 429)::int as f_refused,
         -- A carried permit answered from the previous window did not land in this one.
         (kind = 'late' and a_carried > 0) as released,
         case when not here or $3::int is null then a_max_used
              -- A 429 says the window is full: nothing more for anyone until it ends.
              when $2::int = 429 then greatest(a_max_used, $3::int)
              when $4::int is null then a_max_used
              else greatest(a_max_used, $3::int - $4::int) end as f_max_used,
         case when here and $7::float8 is not null
              then greatest(a_end_low, $7::float8 + $5::float8 - 1000) else a_end_low end as f_end_low0
    from moved
)
update convlog.rate_budgets b
   set window_started_at = to_timestamp(x.f_start / 1000),
       spent = x.a_spent - x.released::int,
       server_remaining = case when x.here then coalesce($4::int, b.server_remaining) else b.server_remaining end,
       server_resets_at = case when x.here then to_timestamp((x.f_start + x.w) / 1000) else b.server_resets_at end,
       paused_until = case when $2::int = 429
                           then greatest(b.paused_until, to_timestamp((x.now_ms + $6::float8) / 1000))
                           else b.paused_until end,
       total_rate_limited = b.total_rate_limited + ($2::int = 429)::int,
       state = b.state || jsonb_build_object(
         -- Requests the server counted up to the latest of ours it answered, less ours among them.
         'observed', x.f_observed, 'refused', x.f_refused, 'carried', x.a_carried - x.released::int,
         'maxUsed', x.f_max_used,
         'others', case when x.here then greatest(0, x.f_max_used - x.f_observed) else x.a_others end,
         'lastAt', x.a_last,
         'endLow', case when x.f_end_low0 is null then null else least(x.f_end_low0, x.f_start + x.w) end,
         -- A total of 0 would cap every later window at 0, and with nothing sent nothing corrects it.
         'serverTotal', case when x.here and $3::int >= 1 then $3::int else x.server_total end,
         -- Only answers that count requests say the later ones will be answered too (CARRY relies on
         -- it): a 429's Retry-After alone (the export's) places the window, and the next one does again.
         'aligned', x.aligned or (x.here and ($3::int is not null or $4::int is not null)),
         -- The server counted more than every permit granted in its window: another client spends.
         'sharedAt', case when x.here and x.f_max_used > x.a_spent - x.released::int then x.now_ms else x.shared_at end),
       updated_at = clock_timestamp()
  from applied x
 where b.name = x.name`;
