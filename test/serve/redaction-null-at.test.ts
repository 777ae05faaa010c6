// A trigger's "full": true (no time: now) and a late retry of a comment_redacted (its own, older
// time) for the same ticket in one batch: the ticket's redaction is now, not the older time.
// max() skipped the null beside the older time, and a late comment_added of the redacted comment
// was then shown as pending (recordRedactions, src/db/pending-comments.ts).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { createIntake } from '../../src/serve/intake.ts';
import { replayStore } from '../../src/db/webhook-deliveries.ts';
import { createServeFixture, type ServeFixture } from './serve-fixture.ts';

let f: ServeFixture;
beforeAll(async () => {
  f = await createServeFixture();
});
afterAll(async () => {
  await f?.close();
});

it('a redaction without a time beside an older one in the same batch still counts as now', async () => {
  const intake = createIntake(f.boss, f.database.db, replayStore(f.database.pool), { log: silentLogger });
  const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
  const halfHourAgo = new Date(Date.now() - 1_800_000).toISOString();
  // The first submit takes a batch alone; the next two wait and go together.
  await Promise.all([
    intake.submit({ key: 'other', ticketId: 1, full: false }),
    intake.submit({ key: 'trigger-full', ticketId: 50, full: true, redactedAt: null }),
    intake.submit({ key: 'late-redaction', ticketId: 50, full: true, redactedAt: hourAgo }),
  ]);
  const { rows } = await f.database.pool.query<{ at: Date }>('select redacted_at as at from zendesk.ticket_sync where ticket_id = 50');
  console.log('redacted_at', rows[0].at.toISOString(), 'hourAgo', hourAgo);
  // The comment the trigger's redaction was about, written half an hour ago, delivered late:
  await intake.submit({
    key: 'late-comment',
    ticketId: 50,
    full: false,
    eventId: 'late-comment',
    comment: { commentId: '777', body: 'the redacted card number', isPublic: true, authorZendeskId: null, authorName: null, authorIsStaff: null, writtenAt: halfHourAgo, raw: {} },
  });
  const shown = await f.database.pool.query(`select body_text from zendesk.conversation_timeline where ticket_id = 50`);
  // Observed: the late comment, written after the older time but before the trigger's "now", is shown.
  expect(shown.rows).toEqual([]);
  expect(Date.now() - rows[0].at.getTime()).toBeLessThan(60_000);
});
