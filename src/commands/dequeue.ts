// `convlog dequeue`: takes back a mistaken enqueue (or backfill). The ids are read as enqueue
// reads them (readTicketIds), every one checked before anything changes; the work is
// dequeueTickets (src/queue/dequeue.ts), one transaction. Ids from a query come through
// `--file -` (psql -Atc "select …" | convlog dequeue --file -).
import { Interrupted, UsageError } from '../errors/convlog-errors.ts';
import { counted, grouped } from '../text.ts';
import { CHANGED_SINCE_SYNC } from '../db/dequeued.ts';
import { dequeueTickets } from '../queue/dequeue.ts';
import { readTicketIds } from './ticket-ids.ts';
import { openRuntime } from './runtime.ts';
import type { Command } from './types.ts';

const NOTHING = 'nothing was dequeued';

export const dequeue: Command = {
  usage: 'convlog dequeue IDS... [--file PATH | -] [--range A..B] | --all',
  nothingDone: NOTHING,
  options: { file: { type: 'string' }, range: { type: 'string' }, all: { type: 'boolean' } },
  allowPositionals: true,
  async run(values, positionals, ctx) {
    const file = values.file as string | undefined;
    const range = values.range as string | undefined;
    const named = positionals.length > 0 || file !== undefined || range !== undefined;
    if (values.all && named) throw new UsageError(`--all takes every queued ticket: give it without ids, --file or --range; ${NOTHING}`);
    if (!values.all && !named) throw new UsageError(`no ticket ids given: pass ids, --file PATH (or - for stdin), --range A..B, or --all; ${NOTHING}`);
    const config = ctx.config();
    // Every id is read and checked before the database is opened: one bad id changes nothing.
    const ids = values.all ? [] : await readTicketIds({ args: positionals, file, range, stdin: ctx.stdin, nothing: NOTHING, allowEmptyFile: true });
    const runtime = await openRuntime(ctx, { config });
    try {
      if (ctx.signal.aborted) throw new Interrupted(`interrupted; ${NOTHING}`);
      const result = await dequeueTickets(runtime.database.db, values.all ? { all: true } : { ticketIds: ids });
      const parts = [`removed ${counted(result.removed, 'queued ticket', grouped)}`];
      if (result.running > 0) parts.push(`${grouped(result.running)} ${result.running === 1 ? 'is' : 'are'} being synced and ${result.running === 1 ? 'was' : 'were'} left${silentWorkers(result)}`);
      if (result.begun > 0) parts.push(`${grouped(result.begun)} of those removed had begun syncing and ${result.begun === 1 ? 'is' : 'are'} now failed (last_error in zendesk.ticket_sync says why)`);
      if (result.changed > 0) {
        const one = result.changed === 1;
        parts.push(
          `${grouped(result.changed)} of them changed in Zendesk after ${one ? 'its' : 'their'} last sync (${one ? 'its ticket row says' : 'their ticket rows say'} so) and ${one ? 'is' : 'are'} synced again with only what that sync read, ` +
            `and no backfill queues ${one ? 'it' : 'them'} until ${one ? 'it changes' : 'they change'} again: npx convlog enqueue --sql "${CHANGED_SINCE_SYNC}" queues ${one ? 'it' : 'them'} now`,
        );
      }
      if (result.notQueued > 0) parts.push(`${grouped(result.notQueued)} ${result.notQueued === 1 ? 'was' : 'were'} not queued`);
      if (result.duplicates > 0) parts.push(`${counted(result.duplicates, 'duplicate id', grouped)} ignored`);
      const empty = !values.all && ids.length === 0 ? `: ${file === '-' ? 'stdin' : 'the file'} holds no ticket ids` : '';
      ctx.out(parts.join('; ') + empty);
      return 0;
    } finally {
      await runtime.close();
    }
  },
};

/**
 * A job whose worker was killed stays held until a supervising worker (pg-boss's supervision, in
 * `work` and `sync`) gives it back: said, so that "being synced" is not read as work going on.
 */
function silentWorkers({ running, runningSilent: silent }: { running: number; runningSilent: number }): string {
  if (silent === 0) return '';
  const whose = silent < running ? `${grouped(silent)} of them by a worker not` : running === 1 ? 'its worker has not been' : 'their workers have not been';
  const one = silent === 1;
  return ` (${whose} heard from for over a minute: killed or cut off? ${one ? 'it stays' : 'they stay'} held until a "convlog work" or "convlog sync" gives ${one ? 'it' : 'them'} back to the queue, within a minute of starting)`;
}
