import { UsageError } from '../errors.ts';
import { parseSimulatorOptions, startSimulator } from '../simulator/index.ts';
import type { Command } from './types.ts';

const FLAGS = {
  port: 'port',
  host: 'host',
  tickets: 'tickets',
  seed: 'seed',
  'rate-limit': 'rateLimit',
  window: 'window',
  'export-rate-limit': 'exportRateLimit',
  'export-page-size': 'exportPageSize',
  latency: 'latency',
  'fail-rate': 'failRate',
  'truncate-rate': 'truncateRate',
  'hang-rate': 'hangRate',
  forbidden: 'forbidden',
  deleted: 'deleted',
  'ticket-sizes': 'ticketSizes',
} as const;

export const simulator: Command = {
  name: 'simulator',
  summary: 'a local Zendesk serving the same API, for demos, tests and benchmarks',
  usage:
    'convlog simulator [--port N] [--tickets N] [--seed N] [--rate-limit N] [--window S] [--latency MS] ' +
    '[--fail-rate F] [--truncate-rate F] [--hang-rate F] [--forbidden IDS] [--deleted IDS] [--ticket-sizes ID:N,...]',
  options: Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }])),
  async run(values, _positionals, ctx) {
    const input: Record<string, unknown> = { port: '4010' };
    for (const [flag, key] of Object.entries(FLAGS)) {
      if (values[flag] !== undefined) input[key] = values[flag];
    }
    let options;
    try {
      options = parseSimulatorOptions(input);
    } catch (error) {
      throw new UsageError((error as Error).message, { cause: error });
    }
    const sim = await startSimulator(options).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') throw new UsageError(`port ${options.port} is in use: pick another with --port`);
      throw error;
    });
    const o = sim.options();
    ctx.out(`Zendesk simulator on ${sim.url}: tickets 1..${o.tickets}, seed ${o.seed}, ${o.rateLimit || 'unlimited'} requests per ${o.window} s`);
    ctx.out(`try: curl -g -u agent@example.com/token:anything '${sim.url}/api/v2/tickets/1/conversation_log?page[size]=2'`);
    ctx.out(`sync against it: ZENDESK_BASE_URL=${sim.url} ZENDESK_EMAIL=agent@example.com ZENDESK_API_TOKEN=anything npx convlog sync 1 2 3`);
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
    await sim.close();
    return 0;
  },
};
