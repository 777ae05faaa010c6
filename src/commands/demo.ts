import { integerFlag } from './args.ts';
import { DEFAULT_TICKETS, runDemo } from './demo/run-demo.ts';
import { STOPPING_WORKER } from './runtime.ts';
import { npmRunWith, optionsTakenByNpm } from './parse-errors.ts';
import { UsageError } from '../errors/convlog-errors.ts';
import { printable } from '../text.ts';
import type { Command } from './types.ts';

const OPTIONS = ['tickets', 'concurrency'] as const;

export const demo: Command = {
  usage: 'convlog demo [--tickets N] [--concurrency N]',
  stopping: STOPPING_WORKER,
  options: { tickets: { type: 'string' }, concurrency: { type: 'string' } },
  async run(values, _positionals, ctx) {
    // `npm run demo --concurrency=2`: npm takes the option as a setting of its own (npm_config_concurrency)
    // and passes convlog nothing, so the demo would run as if it had not been given.
    const eaten = optionsTakenByNpm(ctx.env, OPTIONS).filter((option) => values[option] === undefined);
    if (eaten.length > 0) {
      const flags = eaten.map((option) => `--${option} ${printable(ctx.env[`npm_config_${option}`] ?? '', 20)}`).join(' ');
      throw new UsageError(`npm took ${eaten.map((option) => `--${option}`).join(' and ')} as its own setting and passed convlog nothing: put -- before convlog's options, as in ${npmRunWith(ctx.env, 'demo', flags)}`);
    }
    return runDemo(ctx, {
      tickets: integerFlag('--tickets', values.tickets, DEFAULT_TICKETS, 10_000),
      concurrency: integerFlag('--concurrency', values.concurrency, 8, 64),
    });
  },
};
