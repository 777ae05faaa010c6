import { ticketIdsFromSql } from '../db/read-only-query.ts';
import { ticketIdsWithoutRow } from '../db/missing-context.ts';
import { NOTHING_QUEUED, readTicketIds } from './ticket-ids.ts';
import { SHOW_MANY_BATCH } from '../zendesk/index.ts';
import { enqueueTickets } from '../queue/enqueue.ts';
import { openZendeskRuntime } from './runtime.ts';
import { readRowsOfQueued } from './ticket-rows.ts';
import type { Command } from './types.ts';
import { counted, grouped } from '../text.ts';
import { Interrupted } from '../errors/convlog-errors.ts';

export const enqueue: Command = {
  usage: 'convlog enqueue [IDS...] [--file PATH | -] [--range A..B] [--sql "select id from …"] [--full]',
  nothingDone: NOTHING_QUEUED,
  options: { file: { type: 'string' }, range: { type: 'string' }, sql: { type: 'string' }, full: { type: 'boolean' } },
  allowPositionals: true,
  async run(values, positionals, ctx) {
    const config = ctx.config();
    const sql = values.sql as string | undefined;
    const onlySql = sql !== undefined && positionals.length === 0 && values.file === undefined && values.range === undefined;
    let ids = onlySql ? [] : await readTicketIds({
      args: positionals,
      file: values.file as string | undefined,
      range: values.range as string | undefined,
      stdin: ctx.stdin,
      allowEmptyFile: true,
    });
    const runtime = await openZendeskRuntime(ctx, { config });
    try {
      const started = Date.now();
      if (sql !== undefined) {
        // All rows are read and checked before anything is queued; a bad query is one line, exit 2.
        ids = ids.concat(await ticketIdsFromSql(runtime.database.pool, sql, { signal: ctx.signal }));
      }
      // Ctrl-C while the ids were read (or as the query ended) queues none of them.
      if (ctx.signal.aborted) throw new Interrupted(`interrupted; ${NOTHING_QUEUED}`);
      const result = await enqueueTickets(runtime.boss, runtime.database.db, ids, {
        full: Boolean(values.full),
        signal: ctx.signal,
        onProgress: (done, total) => {
          if (total > 50_000) ctx.log.info({ done, total }, 'enqueueing');
        },
      });
      if (result.stopped) {
        // Each batch's jobs and rows committed together: what is queued is whole, and the rest is
        // queued by the same command again (a ticket queued already is skipped).
        const { done, total } = result.stopped;
        throw new Interrupted(
          `interrupted: queued ${counted(result.queued, 'ticket', grouped)} (${grouped(result.alreadyQueued)} already queued) of the ${grouped(done)} ids gone through, of ${grouped(total)}; run the same command again for the rest`,
        );
      }
      const duplicates = result.duplicates > 0 ? `, ${counted(result.duplicates, 'duplicate id', grouped)} ignored` : '';
      const empty = ids.length === 0 && sql === undefined ? `: ${values.file === '-' ? 'stdin' : 'the file'} holds no ticket ids` : '';
      ctx.out(`queued ${counted(result.queued, 'ticket', grouped)}, ${grouped(result.alreadyQueued)} already queued${duplicates}${empty} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      const { db, pool } = runtime.database;
      // show_many reads 100 tickets a request on the account-wide budget: beyond a minute of that
      // budget, enqueue would sit silent for as long after saying "queued" (half an hour for
      // 300,000 ids), where the export reads 1,000 tickets a request on a budget of its own.
      // Only those ids go on: a million ids are looked up once, not again by readMissingTickets.
      const withoutRow = config.zendesk ? await ticketIdsWithoutRow(db, ids) : ids;
      const inline = config.accountRateLimit * SHOW_MANY_BATCH;
      if (config.zendesk && withoutRow.length > inline) {
        const minutes = Math.ceil(withoutRow.length / inline);
        ctx.out(
          `${grouped(withoutRow.length)} of these tickets have no ticket row yet: reading them by id would take about ${grouped(minutes)} min of the account-wide budget, so enqueue leaves them to "convlog backfill" (1,000 tickets a request); it reads them itself when at most ${grouped(inline)} lack a row`,
        );
        return 0;
      }
      await readRowsOfQueued({ db, pool, config, log: ctx.log, signal: ctx.signal }, withoutRow);
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
