// What the analyst benchmark times: every SQL example of README.md (read at run time, as
// test/analyst/readme.test.ts does) and the queries a support dashboard sends to the views.
// Each runs twice and the second run counts (the first warms the cache, as a dashboard that is
// open all day has it). A query over its target is explained (ANALYZE, BUFFERS) into a file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';

export interface Query {
  name: string;
  sql: string;
  params?: unknown[];
  targetMs: number;
}

export interface TimedQuery extends Query {
  /** The second run's time; null when it failed or timed out. */
  ms: number | null;
  rows: number;
  error?: string;
  explainFile?: string;
}

const TARGET_MS = 1_000;
const ONE_TICKET_TARGET_MS = 20;
/** A query this slow is far past its target; waiting longer tells nothing more. */
const TIMEOUT_MS = 120_000;

/** The ```sql blocks of the README that read (SELECT or WITH), each named by the sentence before it. */
export function readmeQueries(readmePath: string): Query[] {
  const markdown = fs.readFileSync(readmePath, 'utf8');
  const fence = /^(`{3,}|~{3,})[ \t]*([^\n`]*)\n([\s\S]*?)^\1[ \t]*$/gm;
  const queries: Query[] = [];
  let n = 0;
  for (const match of markdown.matchAll(fence)) {
    if (match[2].trim().split(/\s+/)[0]?.toLowerCase() !== 'sql') continue;
    n += 1;
    const sql = match[3].trim();
    if (!/^(select|with)\b/i.test(sql)) continue;
    // The paragraph just above the block says what it answers.
    const before = markdown.slice(0, match.index).trimEnd().split(/\n\s*\n/).pop() ?? '';
    const said = before.replace(/\s+/g, ' ').replace(/:$/, '').trim();
    queries.push({ name: `README #${n}: ${said.length > 70 ? `${said.slice(0, 69)}…` : said}`, sql, targetMs: TARGET_MS });
  }
  return queries;
}

/** The README's search of what customers wrote, if it still has one. */
export const isTextSearch = (q: Query) => /body_text\s+(i?like|~\*?|@@)/i.test(q.sql);

/**
 * Dashboard queries over the views of the analytics layer (README.md, "Tables and example queries"),
 * their periods counted back from the newest stored event, as a dashboard counts from today.
 */
export async function dashboardQueries(pool: pg.Pool): Promise<Query[]> {
  const { rows } = await pool.query<{ newest: Date; week: Date; month: Date; day90: string; ticket: string | null; events: number | null }>(
    `with newest as (select max(created_at) as at from zendesk.conversation_events),
          sample as (select ticket_id, events_synced from zendesk.ticket_sync
                      where status = 'synced' and events_synced >= 30 order by events_synced, ticket_id desc limit 1)
     select newest.at as newest,
            date_trunc('week', newest.at) - interval '7 days' as week,
            date_trunc('month', newest.at) - interval '1 month' as month,
            ((newest.at at time zone 'UTC')::date - 90)::text as day90,
            (select ticket_id from sample) as ticket, (select events_synced from sample) as events
       from newest`,
  );
  const { newest, week, month, day90, ticket, events } = rows[0];
  const sevenDays = new Date(newest.getTime() - 7 * 86_400_000);
  const queries: Query[] = [];
  if (ticket !== null) {
    queries.push({
      name: `timeline of one ticket (${ticket}, ${events} events), as an agent reads it`,
      sql: `select position, created_at, author_type, author_name, event_kind, channel, source_type, left(body_text, 200) as text, attachment_count
              from zendesk.conversation_timeline where ticket_id = $1 order by position`,
      params: [ticket],
      targetMs: ONE_TICKET_TARGET_MS,
    });
  }
  queries.push(
    {
      name: 'timeline, last 7 days: the newest 100 events (activity feed)',
      sql: `select ticket_id, position, created_at, author_name, author_type, event_kind, channel, left(body_text, 200) as text
              from zendesk.conversation_timeline where created_at >= $1 order by created_at desc limit 100`,
      params: [sevenDays],
      targetMs: TARGET_MS,
    },
    {
      name: 'timeline, last 7 days: messages and tickets by channel and author type',
      sql: `select channel, author_type, count(*) as messages, count(distinct ticket_id) as tickets
              from zendesk.conversation_timeline where created_at >= $1 and event_kind = 'message'
             group by 1, 2 order by 3 desc`,
      params: [sevenDays],
      targetMs: TARGET_MS,
    },
    {
      name: 'ticket_conversations: the tickets whose conversation started in one week',
      sql: `select ticket_id, channel, first_event_at, last_event_at, events, end_user_messages, agent_messages, bot_messages,
                   first_agent_reply_seconds, first_reply_agent_name, bot_outcome, waiting_for_answer, group_name, ticket_status
              from zendesk.ticket_conversations
             where first_event_at >= $1 and first_event_at < $1::timestamptz + interval '7 days'
             order by first_event_at`,
      params: [week],
      targetMs: TARGET_MS,
    },
    {
      name: 'first reply by agent, one month (conversations started in it): median seconds',
      sql: `select first_reply_agent_name as agent, count(*) as tickets,
                   percentile_cont(0.5) within group (order by first_agent_reply_seconds) as median_seconds
              from zendesk.ticket_conversations
             where first_event_at >= $1 and first_event_at < $1::timestamptz + interval '1 month' and first_agent_reply_seconds is not null
             group by 1 order by 2 desc`,
      params: [month],
      targetMs: TARGET_MS,
    },
    {
      name: 'first reply by group, one month (tickets created in it): median seconds',
      sql: `select coalesce(group_name, '(no group)') as "group", count(*) as tickets, count(first_agent_reply_seconds) as answered,
                   percentile_cont(0.5) within group (order by first_agent_reply_seconds) as median_seconds
              from zendesk.ticket_conversations
             where ticket_created_at >= $1 and ticket_created_at < $1::timestamptz + interval '1 month'
             group by 1 order by 2 desc`,
      params: [month],
      targetMs: TARGET_MS,
    },
    {
      name: 'daily_activity, the last 90 days',
      sql: `select * from zendesk.daily_activity where day >= $1::date order by day`,
      params: [day90],
      targetMs: TARGET_MS,
    },
  );
  return queries;
}

const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);

export async function timeQueries(pool: pg.Pool, queries: Query[], say: (line: string) => void): Promise<TimedQuery[]> {
  const client = await pool.connect();
  const explainDir = path.join(os.tmpdir(), `convlog-analyst-explain-${process.pid}`);
  const timed: TimedQuery[] = [];
  try {
    await client.query(`set statement_timeout = ${TIMEOUT_MS}`);
    for (const [i, query] of queries.entries()) {
      const result: TimedQuery = { ...query, ms: null, rows: 0 };
      let timedOut = false;
      try {
        await client.query(query.sql, query.params);
        const started = process.hrtime.bigint();
        const second = await client.query(query.sql, query.params);
        result.ms = Number(process.hrtime.bigint() - started) / 1e6;
        result.rows = second.rowCount ?? second.rows.length;
      } catch (error) {
        result.error = error instanceof Error ? error.message : String(error);
        timedOut = /statement timeout/.test(result.error);
      }
      if ((result.ms !== null && result.ms > query.targetMs) || timedOut) {
        // A query that timed out would time out again under ANALYZE: its plan alone is shown.
        const how = timedOut ? '' : '(analyze, buffers) ';
        const plan = await client.query<{ 'QUERY PLAN': string }>(`explain ${how}${query.sql}`, query.params).then(
          ({ rows }) => rows.map((r) => r['QUERY PLAN']).join('\n'),
          (error: unknown) => `explain failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        fs.mkdirSync(explainDir, { recursive: true });
        result.explainFile = path.join(explainDir, `${String(i + 1).padStart(2, '0')}-${slug(query.name)}.txt`);
        const params = query.params?.length ? `-- parameters: ${JSON.stringify(query.params)}\n` : '';
        fs.writeFileSync(result.explainFile, `-- ${query.name}\n${params}${query.sql}\n\n${plan}\n`);
      }
      const shown = result.ms === null ? `FAILED: ${result.error}` : `${result.ms.toFixed(1)} ms, ${result.rows} rows`;
      say(`    ${shown} (target ${query.targetMs} ms) — ${query.name}${result.explainFile ? `; plan in ${result.explainFile}` : ''}`);
      timed.push(result);
    }
  } finally {
    await client.query('reset statement_timeout').catch(() => {});
    client.release();
  }
  return timed;
}
