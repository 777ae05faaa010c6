// Soak: a simulator in this process (3 % 5xx, 1 % hung, 2 % cut-off answers, 100 requests a
// minute; a signed webhook to `convlog serve` for every change) changed at random every 2-4 s for
// SOAK_MINUTES: messages appended, events redacted, tickets updated, created, soft-deleted,
// scrubbed, restored. Then, once the queue has been idle for a minute, every ticket in Postgres is
// compared with the simulator: each event's raw equal to what it serves (as Postgres can hold it),
// deleted tickets gone and `not_found`, every other ticket `synced`, and each ticket the soak
// updated or created with its current status and priority in `tickets`. docs/development.md says how
// to run it beside `serve`, two `work` and a `schedule`.
// Env: DATABASE_URL, SOAK_PORT (4710), SOAK_WEBHOOK_URL, SOAK_SECRET (the serve's
// CONVLOG_WEBHOOK_SECRET), SOAK_TICKETS (400), SOAK_MINUTES (14), SOAK_OUT (/tmp/soak: actions.jsonl,
// report.json). Exits 1 when a ticket differs.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { createRng, startSimulator } from '../src/simulator/index.ts';

const env = process.env;
const out = env.SOAK_OUT ?? '/tmp/soak';
mkdirSync(out, { recursive: true });
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 2 });
const log = (what: object) => appendFileSync(`${out}/actions.jsonl`, `${JSON.stringify({ t: new Date().toISOString(), ...what })}\n`);

const sim = await startSimulator({
  port: Number(env.SOAK_PORT ?? 4710),
  tickets: Number(env.SOAK_TICKETS ?? 400),
  seed: 11,
  rateLimit: 100,
  failRate: 0.03,
  hangRate: 0.01,
  truncateRate: 0.02,
  webhookUrl: env.SOAK_WEBHOOK_URL,
  webhookSecret: env.SOAK_SECRET,
});
console.log(`simulator at ${sim.url}`);

const rng = createRng(12345);
const random = rng.next;
const pick = rng.pick;
let maxId = Number(env.SOAK_TICKETS ?? 400);
const softDeleted = new Set<number>();
// Tickets whose fields changed (updated or created): serve reads their rows when their webhooks
// come, and a schedule's backfill when it runs, so each must end with its current status.
const fieldsChanged = new Set<number>();
const scrubbed = new Set<number>();
const alive = () => Array.from({ length: maxId }, (_, i) => i + 1).filter((id) => !softDeleted.has(id) && !scrubbed.has(id));

function act(): void {
  const r = random();
  const id = pick(alive());
  if (r < 0.5) {
    sim.appendEvents(id, 1 + Math.floor(random() * 3));
    log({ action: 'append', id });
  } else if (r < 0.62) {
    const withBody = sim.events(id).filter((e) => typeof e.content.body === 'string' || typeof e.content.text === 'string');
    if (withBody.length === 0) return;
    const target = pick(withBody);
    sim.editEvent(id, target.reference, (e) => {
      if (typeof e.content.body === 'string') e.content.body = '▇▇▇▇ redacted';
      else e.content.text = '▇▇▇▇ redacted';
    });
    log({ action: 'redact', id, reference: target.reference, events: withBody.length });
  } else if (r < 0.77) {
    const before = sim.ticket(id);
    sim.updateTicket(id, { status: pick(['open', 'pending', 'solved']), priority: pick(['low', 'normal', 'high']) });
    // An update that changes nothing sends no webhook.
    const after = sim.ticket(id);
    if (after.status !== before.status || after.priority !== before.priority) fieldsChanged.add(id);
    log({ action: 'update', id });
  } else if (r < 0.85) {
    maxId = sim.createTicket();
    fieldsChanged.add(maxId);
    log({ action: 'create', id: maxId });
  } else if (r < 0.9) {
    sim.deleteTicket(id);
    softDeleted.add(id);
    log({ action: 'soft-delete', id });
  } else if (r < 0.92) {
    sim.deleteTicket(id, { permanently: true });
    scrubbed.add(id);
    log({ action: 'scrub', id });
  } else if (r < 0.95 && softDeleted.size > 0) {
    const back = pick([...softDeleted]);
    sim.restoreTicket(back);
    softDeleted.delete(back);
    log({ action: 'restore', id: back });
  } else {
    sim.markChanged(id, { silent: true });
    log({ action: 'mark-changed', id });
  }
}

const until = Date.now() + Number(env.SOAK_MINUTES ?? 14) * 60_000;
while (Date.now() < until) {
  act();
  await new Promise((r) => setTimeout(r, 2000 + random() * 2000));
}
console.log('activity over; waiting for an idle queue');
log({ action: 'activity-over' });

let idleChecks = 0;
const waitUntil = Date.now() + 12 * 60_000;
while (idleChecks < 4 && Date.now() < waitUntil) {
  await new Promise((r) => setTimeout(r, 15_000));
  const { rows } = await pool.query(
    `select count(*)::int as n from pgboss.job where name = 'ticket-sync' and state in ('created','retry','active')`,
  );
  idleChecks = rows[0].n === 0 ? idleChecks + 1 : 0;
  console.log(rows[0].n === 0 ? `queue idle (${idleChecks} of 4 looks in a row)` : `queue not done: ${rows[0].n} jobs waiting or running`);
}

// Compare.
// Keys sorted as jsonb sorts them; strings as Postgres can hold them (no NUL, no lone surrogate).
const canon = (v: unknown): unknown =>
  typeof v === 'string' ? v.replaceAll('\u0000', '').toWellFormed() : Array.isArray(v) ? v.map(canon) : v !== null && typeof v === 'object'
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [canon(k) as string, canon((v as Record<string, unknown>)[k])])) : v;
const problems: string[] = [];
const statuses = await pool.query(`select status, count(*)::int as n from zendesk.ticket_sync group by 1`);
for (let id = 1; id <= maxId; id++) {
  const { rows } = await pool.query(
    `select reference, raw from zendesk.conversation_events where ticket_id = $1 and deleted_at is null`, [id]);
  const sync = (await pool.query(`select status, last_error from zendesk.ticket_sync where ticket_id = $1`, [id])).rows[0];
  if (softDeleted.has(id) || scrubbed.has(id)) {
    if (rows.length > 0) problems.push(`ticket ${id} deleted in Zendesk but ${rows.length} events stored (status ${sync?.status})`);
    if (sync && sync.status !== 'not_found') problems.push(`ticket ${id} deleted, ticket_sync says ${sync.status}`);
    continue;
  }
  const expected = sim.events(id);
  if (sync?.status !== 'synced') problems.push(`ticket ${id}: status ${sync?.status} (${sync?.last_error ?? ''})`);
  const stored = new Map(rows.map((r) => [r.reference as string, JSON.stringify(canon(r.raw))]));
  let missing = 0, differ = 0;
  for (const e of expected) {
    const s = stored.get(e.reference);
    if (s === undefined) missing++;
    else if (s !== JSON.stringify(canon(e))) differ++;
    stored.delete(e.reference);
  }
  if (missing || differ || stored.size) problems.push(`ticket ${id}: ${expected.length} events in Zendesk, missing ${missing}, differing ${differ}, extra ${stored.size}`);
  if (fieldsChanged.has(id)) {
    const row = (await pool.query(`select status, priority from zendesk.tickets where id = $1`, [id])).rows[0];
    const now = sim.ticket(id);
    if (row?.status !== now.status || row?.priority !== now.priority) {
      problems.push(`ticket ${id}: tickets row ${row ? `${row.status}/${row.priority}` : 'missing'}, Zendesk ${now.status}/${now.priority}`);
    }
  }
}
const report = { maxId, softDeleted: [...softDeleted], scrubbed: [...scrubbed], statuses: statuses.rows, ticketRowsChecked: [...fieldsChanged].filter((id) => !softDeleted.has(id) && !scrubbed.has(id)).length, problems,
  webhooks: sim.webhooks.deliveries.length, webhookAnswers: countBy(sim.webhooks.deliveries.map((d) => String(d.status))) };
writeFileSync(`${out}/report.json`, JSON.stringify(report, null, 2));
console.log(JSON.stringify({ ...report, problems: problems.slice(0, 40), problemCount: problems.length }, null, 2));
await pool.end();
await sim.close();
process.exitCode = problems.length > 0 ? 1 : 0;

function countBy(xs: string[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const x of xs) c[x] = (c[x] ?? 0) + 1;
  return c;
}
