import { UsageError } from '../errors/convlog-errors.ts';
import { quoted } from '../text.ts';
import { parseSimulatorOptions, startSimulator, type SimulatorOptions } from '../simulator/index.ts';
import type { Command } from './types.ts';

const DEFAULT_PORT = 4010;

/** Every flag, the option it sets and its line in --help: one table, so help cannot leave one out. */
const FLAGS: Record<string, { key: keyof SimulatorOptions; value: string; help: string }> = {
  // A flag with no value (value '') switches its option on.
  port: { key: 'port', value: 'N', help: 'port to listen on (default 4010; 0 = a free one)' },
  host: { key: 'host', value: 'HOST', help: 'address to listen on (default 127.0.0.1)' },
  tickets: { key: 'tickets', value: 'N', help: 'serve tickets 1..N (default 20)' },
  seed: { key: 'seed', value: 'N', help: 'the same seed gives the same data (default 1)' },
  'ticket-sizes': { key: 'ticketSizes', value: 'ID:N,...', help: 'event counts for some tickets, e.g. 3:100,5:0' },
  'rate-limit': { key: 'rateLimit', value: 'N', help: 'conversation-log requests per window (default 100; 0 = unlimited)' },
  'export-rate-limit': { key: 'exportRateLimit', value: 'N', help: 'incremental export requests per window (default 10; 0 = unlimited)' },
  'account-rate-limit': { key: 'accountRateLimit', value: 'N', help: 'account-wide requests per window: show_many, groups, brands, organizations, users/me, webhooks (default 700; 0 = unlimited)' },
  window: { key: 'window', value: 'S', help: 'rate-limit window in seconds (default 60)' },
  'export-page-size': { key: 'exportPageSize', value: 'N', help: 'tickets per export page without per_page (default 1000)' },
  latency: { key: 'latency', value: 'MS', help: 'delay before every answer (default 0)' },
  'fail-rate': { key: 'failRate', value: 'F', help: 'fraction of requests answered 500/503/504 (default 0)' },
  'truncate-rate': { key: 'truncateRate', value: 'F', help: 'fraction of 200 bodies cut off mid-way (default 0)' },
  'hang-rate': { key: 'hangRate', value: 'F', help: 'fraction of requests never answered (default 0)' },
  forbidden: { key: 'forbidden', value: 'IDS', help: 'ticket ids answered 403' },
  deleted: { key: 'deleted', value: 'IDS', help: 'soft-deleted ticket ids: 404, status "deleted" in the export' },
  scrubbed: { key: 'scrubbed', value: 'IDS', help: 'permanently deleted ticket ids: 404, scrubbed in the export' },
  'api-token': { key: 'apiToken', value: 'TOKEN', help: 'accept only this API token (default: any)' },
  'webhook-url': { key: 'webhookUrl', value: 'URL', help: 'send signed webhooks for every ticket change to this URL' },
  'webhook-secret': { key: 'webhookSecret', value: 'SECRET', help: 'signing secret of that webhook (default: a random one, read through the webhooks API)' },
  preload: { key: 'preload', value: '', help: 'make and serialise every event at start, so pages are served as copies (for benchmarks; about 5 kB of memory an event)' },
  'snapshot-cursors': { key: 'snapshotCursors', value: '', help: 'a saved cursor returns only the events the log had when it was given, not ones appended later (Zendesk does not say which it does)' },
  'clock-offset': { key: 'clockOffset', value: 'S', help: 'the account\'s clock runs S seconds ahead of this machine\'s (negative, as --clock-offset=-300: behind), in every time it gives and its Date headers (default 0)' },
  'history-end': { key: 'historyEnd', value: 'DATE', help: 'move every generated date so the histories end just before DATE: an ISO date or time (UTC unless it names an offset) or now (default: fixed dates, from 2025-06-01 over about six months)' },
};

const width = Math.max(...Object.entries(FLAGS).map(([flag, { value }]) => flag.length + value.length + 3));
const usage = [
  'convlog simulator [options]',
  ...Object.entries(FLAGS).map(([flag, { value, help }]) => `  ${`--${flag} ${value}`.trimEnd().padEnd(width)}  ${help}`),
].join('\n');

export const simulator: Command = {
  usage,
  options: Object.fromEntries(Object.entries(FLAGS).map(([flag, { value }]) => [flag, { type: value === '' ? ('boolean' as const) : ('string' as const) }])),
  stopping: 'closing the simulator, cutting the requests it is answering',
  async run(values, _positionals, ctx) {
    const input: Record<string, unknown> = { port: String(DEFAULT_PORT) };
    for (const [flag, { key, value }] of Object.entries(FLAGS)) {
      if (values[flag] === undefined) continue;
      if (value === '') {
        input[key] = true;
        continue;
      }
      // An empty --api-token would mean "any token", the same as leaving it out: refused as a slip.
      if (String(values[flag]).trim() === '') throw new UsageError(`--${flag} needs a value (${value}); leave the flag out for its default`);
      input[key] = values[flag];
    }
    let options;
    try {
      options = parseSimulatorOptions(input);
    } catch (error) {
      throw new UsageError(asFlags((error as Error).message), { cause: error });
    }
    const sim = await startSimulator(options).catch((error: NodeJS.ErrnoException) => {
      const host = quoted(options.host ?? '127.0.0.1');
      if (error.code === 'EADDRINUSE') throw new UsageError(`port ${options.port} is in use: pick another with --port`, { cause: error, showUsage: false });
      if (error.code === 'EACCES') throw new UsageError(`may not listen on port ${options.port} (permission denied): pick another with --port`, { cause: error, showUsage: false });
      // --host is a name that does not resolve, or an address this machine does not have.
      if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN' || error.code === 'EAI_NONAME') {
        throw new UsageError(`cannot listen on --host ${host}: the host name does not resolve; give an address of this machine, such as 127.0.0.1`, { cause: error, showUsage: false });
      }
      if (error.code === 'EADDRNOTAVAIL' || error.code === 'EINVAL') {
        throw new UsageError(`cannot listen on --host ${host}: not an address of this machine; give one, such as 127.0.0.1 or 0.0.0.0`, { cause: error, showUsage: false });
      }
      throw error;
    });
    const o = sim.options();
    ctx.out(`Zendesk simulator on ${sim.url}: tickets 1..${o.tickets}, seed ${o.seed}, ${o.rateLimit || 'unlimited'} requests per ${o.window} s`);
    // Lines to paste: with --api-token, only that token gets in (any email goes with it).
    const token = o.apiToken === '' ? 'anything' : o.apiToken;
    ctx.out(`try: curl -g -u ${shellWord(`agent@example.com/token:${token}`)} '${sim.url}/api/v2/tickets/1/conversation_log?page[size]=2'`);
    if (o.webhookUrl !== '') ctx.out(`webhooks for every ticket change go to ${o.webhookUrl}${o.webhookSecret === '' ? ' (secret: GET /api/v2/webhooks, then /api/v2/webhooks/{id}/signing_secret)' : ''}`);
    // One folder per port: a second simulator beside the first is another account, which the
    // first one's database would refuse.
    const dataDir = o.port === DEFAULT_PORT ? '.convlog/simulator' : `.convlog/simulator-${new URL(sim.url).port}`;
    ctx.out(`sync against it (a data folder of its own, as a database holds one account): CONVLOG_DATA_DIR=${dataDir} ZENDESK_BASE_URL=${sim.url} ZENDESK_EMAIL=agent@example.com ZENDESK_API_TOKEN=${shellWord(token)} npx convlog sync 1 2 3`);
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
    await sim.close();
    return 0;
  },
};

/** The options' problems as the flags that set them: `accountRateLimit must be…` is `--account-rate-limit must be…`. */
function asFlags(message: string): string {
  const problems = message.replace(/^Invalid simulator options: /, '').split('; ');
  const flagOf = new Map(Object.entries(FLAGS).map(([flag, { key }]) => [key as string, `--${flag}`]));
  return problems.map((problem) => problem.replace(/^(\w+)\b/, (key) => flagOf.get(key) ?? key)).join('; ');
}

/** `text` as one word of a shell command: as it is when that is safe, else in single quotes. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
