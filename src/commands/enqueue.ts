import { ticketIdsFromSql } from '../db/read-only-query.ts';
import { readTicketIds } from '../queue/ticket-ids.ts';
import { enqueueTickets } from '../queue/enqueue.ts';
import { openRuntime } from './runtime.ts';
import { readRowsOfQueued } from './ticket-rows.ts';
import type { Command } from './types.ts';

export const enqueue: Command = {
  usage: 'convlog enqueue [IDS...] [--file PATH | -] [--range A..B] [--sql "select id from …"] [--full]',
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
    });
    const runtime = await openRuntime(ctx, { config });
    try {
      const started = Date.now();
      if (sql !== undefined) {
        // All rows are read and checked before anything is queued; a bad query is one line, exit 2.
        ids = ids.concat(await ticketIdsFromSql(runtime.database.pool, sql));
      }
      const result = await enqueueTickets(runtime.boss, runtime.database.db, ids, {
        full: Boolean(values.full),
        onProgress: (done, total) => {
          if (total > 50_000) ctx.log.info({ done, total }, 'enqueueing');
        },
      });
      const duplicates = result.duplicates > 0 ? `, ${result.duplicates} duplicate id(s) ignored` : '';
      ctx.out(`queued ${result.queued} ticket(s), ${result.alreadyQueued} already queued${duplicates} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      const { db, pool } = runtime.database;
      await readRowsOfQueued({ db, pool, config, log: ctx.log, signal: ctx.signal }, ids);
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
