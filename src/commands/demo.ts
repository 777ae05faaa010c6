import { UsageError } from '../errors.ts';
import { runDemo } from '../demo/run-demo.ts';
import type { Command } from './types.ts';

export const demo: Command = {
  name: 'demo',
  summary: 'embedded Postgres + simulator + a full sync, then a summary and example SQL (no setup needed)',
  usage: 'convlog demo [--tickets N] [--concurrency N]',
  options: { tickets: { type: 'string' }, concurrency: { type: 'string' } },
  async run(values, _positionals, ctx) {
    return runDemo(ctx, {
      tickets: whole('--tickets', values.tickets, 300, 10_000),
      concurrency: whole('--concurrency', values.concurrency, 8, 64),
    });
  },
};

function whole(flag: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || n < 1 || n > max) throw new UsageError(`${flag} must be an integer from 1 to ${max}, got "${String(value)}"`);
  return n;
}
