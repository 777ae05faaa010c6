// A known limit, written down in docs/guarantees.md: an attachment is one row, keyed by Zendesk's
// attachment id. When two tickets' logs carry the same file on different events (Zendesk merges
// ticket A into B and B's merge comment carries A's file; the simulator merges no tickets, so
// the test copies the file onto B's last event), the row belongs to whichever ticket was synced
// last: A's timeline counts the file (attachment_count reads the event's raw) while
// attachments_with_context lists it under B only, and each later sync of A or B moves it back.
// Should this test fail, the limit is gone: update docs/guarantees.md with it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let f: Fixture;
beforeAll(async () => {
  f = await createFixture({ tickets: 40, seed: 7 });
});
afterAll(async () => {
  await f?.close();
});

it("a file two tickets' logs carry is listed under the ticket synced last, and moves at each sync", async () => {
  const a = [...Array(40).keys()].map((i) => i + 1).find((id) => f.sim.events(id).some((e) => Array.isArray(e.attachments) && e.attachments.length > 0));
  expect(a).toBeDefined();
  const b = [...Array(40).keys()].map((i) => i + 1).find((id) => id !== a && f.sim.events(id).length > 0)!;
  const withFile = f.sim.events(a!).find((e) => Array.isArray(e.attachments) && e.attachments.length > 0)!;
  const files = (withFile.attachments as { id: number }[]).map((file) => file.id);
  f.sim.editEvent(b, f.sim.events(b).at(-1)!.reference, (event) => {
    event.attachments = structuredClone(withFile.attachments);
  });

  const listed = async () =>
    (
      await f.database.pool.query<{ ticket_id: number; n: number }>(
        `select ticket_id::int, count(*)::int as n from zendesk.attachments_with_context where attachment_id = any($1) group by 1`,
        [files],
      )
    ).rows;
  const counted = async (ticketId: number) =>
    (
      await f.database.pool.query<{ n: number }>(`select coalesce(sum(attachment_count), 0)::int as n from zendesk.conversation_timeline where ticket_id = $1 and reference = any($2)`, [
        ticketId,
        [withFile.reference, f.sim.events(b).at(-1)!.reference],
      ])
    ).rows[0].n;

  await syncTicket(f.deps, a!);
  expect(await listed()).toEqual([{ ticket_id: a, n: files.length }]);
  await syncTicket(f.deps, b);
  // A's timeline still counts its file; the files view lists it under B alone.
  expect({ a: await counted(a!), b: await counted(b) }).toEqual({ a: files.length, b: files.length });
  expect(await listed()).toEqual([{ ticket_id: b, n: files.length }]);
  await syncTicket(f.deps, a!);
  expect(await listed()).toEqual([{ ticket_id: a, n: files.length }]);
});
