// `convlog purge IDS...`: an erasure request that arrives before Zendesk deletes the ticket.
// The rows go whatever CONVLOG_ON_DELETE says (keeping them marked would defeat the request),
// and ticket_sync keeps the tombstone, as for a ticket Zendesk deleted. An id convlog holds no row
// of is named as such, not counted as purged; one it never heard of gets no tombstone.
import { openCommandDatabase } from './runtime.ts';
import { purgeTickets } from '../db/purge.ts';
import { ticketIdsKnownAmong } from '../db/missing-context.ts';
import { Interrupted, UsageError } from '../errors/convlog-errors.ts';
import { readTicketIds } from './ticket-ids.ts';
import { uniqueAscending } from '../ids.ts';
import { counted } from '../text.ts';
import type { Command } from './types.ts';

const NOTHING = 'nothing was purged';

export const purge: Command = {
  usage: 'convlog purge IDS... [--file PATH | -] [--range A..B]',
  nothingDone: NOTHING,
  options: { file: { type: 'string' }, range: { type: 'string' } },
  allowPositionals: true,
  async run(values, positionals, ctx) {
    const config = ctx.config();
    // Ascending, each once, from here on: ticketIdsKnownAmong then finds them so and only copies them.
    const ids = uniqueAscending(await readTicketIds({
      args: positionals,
      file: values.file as string | undefined,
      range: values.range as string | undefined,
      stdin: ctx.stdin,
      nothing: NOTHING,
    }));
    const database = await openCommandDatabase(ctx, config);
    try {
      // Only the tickets convlog knows go into the purge's transaction: the others have nothing to
      // remove and get no tombstone, and a range of millions would hold it for minutes.
      const known = await ticketIdsKnownAmong(database.db, ids);
      if (ctx.signal.aborted) throw new Interrupted(`interrupted; ${NOTHING}`);
      const { removed, refused, held } = await purgeTickets(database.db, known, { how: 'purge command', mode: 'purge', refuseActive: true });
      if (refused.length > 0) {
        const one = refused.length === 1;
        // A queued ticket need not wait for its sync: dequeue takes its job back (not a running one).
        const dequeue = refused.length <= 10 ? `"convlog dequeue ${refused.join(' ')}"` : '"convlog dequeue" with the same ids';
        throw new UsageError(
          `nothing purged: ${listed(refused)} ${one ? 'is' : 'are'} queued or syncing; purge ${one ? 'it' : 'them'} once the sync has finished, ` +
            `or after ${dequeue} has taken ${one ? 'it' : 'them'} out of the queue (one a worker is syncing stays until its run ends)`,
          { showUsage: false },
        );
      }
      // Only a ticket that held rows counts as purged; the others are named, not counted.
      const holding = new Set(held);
      const empty = ids.filter((id) => !holding.has(id));
      const none = empty.length > 0 ? `no rows stored for ${listed(empty)}` : '';
      ctx.out(
        held.length === 0
          ? `nothing purged: ${none}`
          : `purged ${counted(held.length, 'ticket')}: ${counted(removed.events, 'event')}, ${counted(removed.attachments, 'attachment')}, ` +
              `${counted(removed.thumbnails, 'thumbnail')} and ${counted(removed.authors, 'author')} no other ticket names removed` +
              (none ? `; ${none}` : ''),
      );
      return 0;
    } finally {
      await database.close();
    }
  },
};

/** Ids for a one-line message, "ticket 5" or "tickets 5, 6": the first ten, then how many in all. */
function listed(ids: readonly number[]): string {
  return (ids.length === 1 ? 'ticket ' : 'tickets ') + ids.slice(0, 10).join(', ') + (ids.length > 10 ? `, … (${ids.length} in all)` : '');
}
