import { runWorker } from '../queue/worker.ts';
import { UsageError } from '../errors.ts';
import { openSyncRuntime } from './runtime.ts';
import type { Command } from './types.ts';

export function concurrencyFrom(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || n < 1 || n > 256) {
    throw new UsageError(`--concurrency must be an integer from 1 to 256, got "${String(value)}"`);
  }
  return n;
}

export const work: Command = {
  name: 'work',
  summary: 'run sync workers until SIGINT/SIGTERM (or, with --until-idle, until the queue is empty)',
  usage: 'convlog work [--concurrency N] [--until-idle]',
  options: { concurrency: { type: 'string' }, 'until-idle': { type: 'boolean' } },
  async run(values, _positionals, ctx) {
    const config = ctx.config({ needZendesk: true });
    const concurrency = concurrencyFrom(values.concurrency, config.concurrency);
    const runtime = await openSyncRuntime(ctx, { supervise: true, schedule: true });
    try {
      ctx.log.info({ concurrency, untilIdle: Boolean(values['until-idle']) }, 'worker started');
      const summary = await runWorker(runtime.boss, runtime.database.pool, runtime.deps, {
        concurrency,
        untilIdle: Boolean(values['until-idle']),
        signal: ctx.signal,
      });
      ctx.log.info({ ...summary, fatal: summary.fatal?.message }, 'worker stopped');
      if (summary.fatal) throw summary.fatal;
      return summary.failed > 0 && values['until-idle'] ? 1 : 0;
    } finally {
      await runtime.close();
    }
  },
};
