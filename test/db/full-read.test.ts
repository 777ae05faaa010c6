// What a full read did not see is removed with NOT IN over the seen ids. The first form,
// `<> all(array)`, compared each of a ticket's rows with the whole array: the first sync of a
// 50,000-event ticket spent over a minute in these deletes. The plan must hash the seen ids.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { notAmong } from '../../src/db/sql-values.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

const plan = async (statement: ReturnType<typeof sql>) =>
  JSON.stringify((await database.db.execute(sql`explain (format json) ${statement}`)).rows);

it('plans the vanished-rows deletes with a hash of the seen references and file ids', async () => {
  const references = Array.from({ length: 5_000 }, (_, i) => `zen:ticket_event:${i}`);
  const ids = Array.from({ length: 5_000 }, (_, i) => i + 1);
  for (const statement of [
    sql`delete from zendesk.conversation_events where ticket_id = 1 and ${notAmong(sql`reference`, references, 'text')}`,
    sql`delete from zendesk.attachments where ticket_id = 1 and ${notAmong(sql`id`, ids, 'bigint')}`,
  ]) {
    const text = await plan(statement);
    expect(text).toMatch(/hashed SubPlan/);
    expect(text).not.toMatch(/<> ALL/);
  }
});

it('keeps exactly the rows whose value is among those given, and removes all when none are', async () => {
  await database.pool.query(`create table not_among_t (v text not null)`);
  await database.pool.query(`insert into not_among_t values ('a'), ('b'), ('c')`);
  await database.db.execute(sql`delete from not_among_t where ${notAmong(sql`v`, ['a', 'c', 'zz'], 'text')}`);
  expect((await database.pool.query(`select v from not_among_t order by v`)).rows).toEqual([{ v: 'a' }, { v: 'c' }]);
  await database.db.execute(sql`delete from not_among_t where ${notAmong(sql`v`, [], 'text')}`);
  expect((await database.pool.query(`select count(*)::int as n from not_among_t`)).rows).toEqual([{ n: 0 }]);
});
