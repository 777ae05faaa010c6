// CONVLOG_REDACT_SYSTEM_METADATA=true keeps the author's IP address and location out of the
// database: synced end to end through syncTicket, then every text and jsonb column of every
// table and view in schema zendesk is searched for the simulator's values. The same scan of
// an unredacted sync must find them, so the scan itself is known to work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { syncedDataset, type Dataset } from './dataset.ts';

interface Secrets {
  /** ip_address and location strings, found by substring. */
  strings: string[];
  /** latitude and longitude, found as whole numbers in the text. */
  numbers: string[];
}

function systemSecrets(data: Dataset): Secrets {
  const strings = new Set<string>();
  const numbers = new Set<string>();
  for (const events of data.events.values()) {
    for (const event of events) {
      const system = event.metadata.system as Record<string, unknown>;
      if (typeof system.ip_address === 'string') strings.add(system.ip_address);
      if (typeof system.location === 'string') strings.add(system.location);
      for (const n of [system.latitude, system.longitude]) if (typeof n === 'number') numbers.add(String(n));
    }
  }
  return { strings: [...strings], numbers: [...numbers] };
}

interface Finding {
  column: string;
  rows: number;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every text-like and jsonb column of every table and view in zendesk, searched in full. */
async function scan(pool: pg.Pool, secrets: Secrets): Promise<Finding[]> {
  const { rows: columns } = await pool.query<{ rel: string; col: string }>(
    `select c.relname as rel, a.attname as col
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where n.nspname = 'zendesk' and c.relkind in ('r', 'p', 'v', 'm')
        and a.atttypid in ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype, 'json'::regtype, 'jsonb'::regtype)
      order by 1, 2`,
  );
  // Keys of metadata.system (jsonb text has `"key": value`); `"location": {` is a shared
  // location in a messaging message's content, which is what the customer chose to send.
  const keys = '"(ip_address|latitude|longitude)":|"location": "';
  const numbers = `(^|[^0-9.])(${secrets.numbers.map(escapeRegex).join('|')})([^0-9]|$)`;
  // One read of each table or view counts every column of it: a view is computed once, not once
  // per column.
  const byRelation = Map.groupBy(columns, (c) => c.rel);
  const findings: Finding[] = [];
  for (const [rel, cols] of byRelation) {
    const counts = cols.map(
      ({ col }, i) =>
        `count(*) filter (where "${col}"::text ~ $1 or "${col}"::text ~ $2 or exists (select from unnest($3::text[]) s where strpos("${col}"::text, s) > 0))::int as c${i}`,
    );
    const { rows } = await pool.query<Record<string, number>>(`select ${counts.join(', ')} from zendesk."${rel}"`, [keys, numbers, secrets.strings]);
    cols.forEach(({ col }, i) => {
      if (rows[0][`c${i}`] > 0) findings.push({ column: `${rel}.${col}`, rows: rows[0][`c${i}`] });
    });
  }
  expect(columns.length).toBeGreaterThan(40);
  return findings;
}

describe('personal data in metadata.system', () => {
  let redacted: Dataset;
  let unredacted: Dataset;
  beforeAll(async () => {
    [redacted, unredacted] = await Promise.all([syncedDataset({ CONVLOG_REDACT_SYSTEM_METADATA: 'true' }), syncedDataset()]);
  }, 120_000);
  afterAll(async () => {
    await redacted?.close();
    await unredacted?.close();
  });

  it('the simulator serves IP addresses and locations, and an unredacted sync stores them', async () => {
    const secrets = systemSecrets(unredacted);
    expect(secrets.strings.length).toBeGreaterThan(20);
    expect(secrets.numbers.length).toBeGreaterThanOrEqual(4);
    const found = (await scan(unredacted.database.pool, secrets)).map((f) => f.column);
    expect(found).toEqual(expect.arrayContaining(['conversation_timeline.metadata', 'conversation_events.raw']));
  });

  it('with CONVLOG_REDACT_SYSTEM_METADATA=true, no column of any table or view holds them', async () => {
    expect(await scan(redacted.database.pool, systemSecrets(redacted))).toEqual([]);
  });

  it('keeps everything else: the same events, and the browser (client)', async () => {
    const count = async (d: Dataset, sql: string) => (await d.database.pool.query<{ n: number }>(sql)).rows[0].n;
    const events = 'select count(*)::int as n from zendesk.conversation_events';
    expect(await count(redacted, events)).toBe(await count(unredacted, events));
    const clients = `select count(*)::int as n from zendesk.conversation_timeline where metadata #>> '{system,client}' is not null`;
    expect(await count(redacted, clients)).toBeGreaterThan(0);
    expect(await count(redacted, clients)).toBe(await count(unredacted, clients));
    const timeline = `select count(*)::int as n from zendesk.conversation_timeline where user_agent is not null`;
    expect(await count(redacted, timeline)).toBe(await count(unredacted, clients));
  });
});
