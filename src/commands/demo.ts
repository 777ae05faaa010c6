import { integerFlag } from './args.ts';
import { DEFAULT_TICKETS, runDemo } from './demo/run-demo.ts';
import { STOPPING_WORKER } from './runtime.ts';
import type { Command } from './types.ts';

export const demo: Command = {
  usage: 'convlog demo [--tickets N] [--concurrency N]',
  stopping: STOPPING_WORKER,
  options: { tickets: { type: 'string' }, concurrency: { type: 'string' } },
  async run(values, _positionals, ctx) {
    return runDemo(ctx, {
      tickets: integerFlag('--tickets', values.tickets, DEFAULT_TICKETS, 10_000),
      concurrency: integerFlag('--concurrency', values.concurrency, 8, 64),
    });
  },
};
