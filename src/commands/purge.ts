// `convlog purge IDS...`: an erasure request that arrives before Zendesk deletes the ticket.
// The rows go whatever CONVLOG_ON_DELETE says (keeping them marked would defeat the request),
// and ticket_sync keeps the tombstone, as for a ticket Zendesk deleted.
import { openDatabase } from '../db/connection.ts';
import { purgeTickets } from '../db/purge.ts';
import { UsageError } from '../errors.ts';
import { readTicketIds } from '../queue/ticket-ids.ts';
import type { Command } from './types.ts';

export const purge: Command = {
  usage: 'convlog purge IDS... [--file PATH | -] [--range A..B]',
  options: { file: { type: 'string' }, range: { type: 'string' } },
  allowPositionals: true,
  async run(values, positionals, ctx) {
    const config = ctx.config();
    const ids = await readTicketIds({
      args: positionals,
      file: values.file as string | undefined,
      range: values.range as string | undefined,
      stdin: ctx.stdin,
      nothing: 'nothing was purged',
    });
    const database = await openDatabase(config, ctx.log);
    try {
      const { removed, refused } = await purgeTickets(database.db, ids, { how: 'purge command', mode: 'purge', refuseActive: true });
      if (refused.length > 0) {
        const shown = refused.slice(0, 10).join(', ') + (refused.length > 10 ? `, … (${refused.length} in all)` : '');
        throw new UsageError(`nothing purged: ticket(s) ${shown} are queued or syncing; purge them once their sync has finished`, { showUsage: false });
      }
      ctx.out(
        `purged ${new Set(ids).size} ticket(s): ${removed.events} event(s), ${removed.attachments} attachment(s), ` +
          `${removed.thumbnails} thumbnail(s) and ${removed.authors} author(s) no other ticket names removed`,
      );
      return 0;
    } finally {
      await database.close();
    }
  },
};
