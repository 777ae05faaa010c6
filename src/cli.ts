// Argument parsing and wiring only: each command lives in src/commands/.
import { constants as osConstants } from 'node:os';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import pkg from '../package.json' with { type: 'json' };
import { DEFAULT_READONLY_ROLE, DEFAULT_SERVE_PORT, LOG_LEVELS, loadConfig, misspeltVariables, processEnvironment, type LoadConfigOptions } from './config.ts';
import { ConvlogError, UsageError } from './errors/convlog-errors.ts';
import { errorMessage } from './errors/messages.ts';
import { endsAtOnce, exitCodeFor } from './errors/outcome.ts';
import { nearest, printable, quoted } from './text.ts';
import { withinTime } from './timing.ts';
import { createLogger } from './log.ts';
import type { Command, CommandContext, CommandIo } from './commands/types.ts';
import { parseError, refuseRepeats } from './commands/parse-errors.ts';

// Each command's module is loaded only when it runs: a process pays for the libraries of its own
// command (the simulator, the service's metrics, the demo's embedded Postgres are not loaded by
// `enqueue`), and `--help` loads none.
interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

const COMMANDS: CommandEntry[] = [
  { name: 'migrate', summary: 'apply the database migrations (a second run changes nothing)', load: async () => (await import('./commands/migrate.ts')).migrate },
  { name: 'enqueue', summary: 'queue ticket syncs (every id is checked first; one bad id queues nothing)', load: async () => (await import('./commands/enqueue.ts')).enqueue },
  { name: 'dequeue', summary: 'take tickets back out of the queue: their waiting syncs go, those a worker is running stay (--all: every queued ticket)', load: async () => (await import('./commands/dequeue.ts')).dequeue },
  { name: 'work', summary: 'run sync workers until SIGINT/SIGTERM (or, with --until-idle, until the queue is empty)', load: async () => (await import('./commands/work.ts')).work },
  { name: 'sync', summary: 'queue tickets and work until they are done, with progress; --full re-reads from the first event', load: async () => (await import('./commands/sync.ts')).sync },
  { name: 'backfill', summary: 'queue the tickets changed since DATE (incremental export); without --since, continue from the saved position', load: async () => (await import('./commands/backfill.ts')).backfill },
  { name: 'schedule', summary: 'run a backfill on a cron schedule inside the workers (stored in Postgres; once per tick however many workers)', load: async () => (await import('./commands/schedule.ts')).schedule },
  { name: 'unschedule', summary: 'remove the backfill schedule', load: async () => (await import('./commands/schedule.ts')).unschedule },
  { name: 'account', summary: 'which Zendesk account this database holds; --set records the configured one (the same account at a new address)', load: async () => (await import('./commands/account.ts')).account },
  { name: 'status', summary: 'queue depth, tickets by sync status, rows stored, rate budgets, schedule, last errors', load: async () => (await import('./commands/status.ts')).status },
  { name: 'serve', summary: `receive Zendesk webhooks and queue the tickets they name; /healthz, /metrics (port ${DEFAULT_SERVE_PORT})`, load: async () => (await import('./commands/serve.ts')).serve },
  { name: 'webhook', summary: 'create: register a Zendesk webhook for ticket events and print its secret; test: send a signed sample to serve', load: async () => (await import('./commands/webhook.ts')).webhook },
  { name: 'grant-readonly', summary: `create or update a role that may only read schema zendesk, for BI tools (default ${DEFAULT_READONLY_ROLE})`, load: async () => (await import('./commands/grant-readonly.ts')).grantReadonly },
  { name: 'db-server', summary: 'keep the embedded Postgres up and print a URL for psql and BI tools, until Ctrl-C', load: async () => (await import('./commands/db-server.ts')).dbServer },
  { name: 'query', summary: 'run one read-only SQL query and print the result as a table (or CSV with --csv)', load: async () => (await import('./commands/query.ts')).query },
  { name: 'purge', summary: "remove tickets' events, attachments, ticket rows and unused authors on request, keeping a tombstone", load: async () => (await import('./commands/purge.ts')).purge },
  { name: 'rebuild-analytics', summary: "rebuild the per-ticket analyst tables from the stored events (resumes where it stopped; --restart starts over)", load: async () => (await import('./commands/rebuild-analytics.ts')).rebuildAnalyticsCommand },
  { name: 'simulator', summary: 'a local Zendesk serving the same API, for demos, tests and benchmarks (see docs/simulator.md)', load: async () => (await import('./commands/simulator.ts')).simulator },
  { name: 'demo', summary: 'embedded Postgres + simulator + a full sync, then a summary and example SQL (no setup needed)', load: async () => (await import('./commands/demo.ts')).demo },
];

/** What `convlog` takes before a command (or alone). */
const GLOBAL_OPTIONS = ['--verbose', '--help', '--version'];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: convlog <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'global options: --verbose (debug logs and stack traces), --help, --version (alone: convlog --version)',
    'configuration: environment variables or .env (see .env.example)',
  ].join('\n');
}

/** What bin/convlog.js hands the program: a signal that came before the command's own handlers. */
export interface ProgramStart {
  /** The first stop signal since bin/convlog.js started listening. */
  signal: NodeJS.Signals | undefined;
  /** The signals that stop a command: SIGINT and SIGTERM, and SIGHUP when a terminal is attached. */
  signals: NodeJS.Signals[];
  /** Set when that signal stopped the command before it started: the process then ends by it. */
  stoppedBeforeStart: boolean;
  /** Stops listening in bin/convlog.js: the command's own handlers are in place. */
  releaseEarlySignals(): void;
}

/**
 * Runs one command and returns its exit code. Without `io` it is the program: the process's
 * streams, environment and .env, and SIGINT/SIGTERM stop it. With `io` it runs inside another
 * process (tests run several at once), which stops it through `io.signal`.
 */
export async function main(argv: string[], io?: CommandIo & { signal?: AbortSignal }, program?: ProgramStart): Promise<number> {
  const stdout = io?.stdout ?? process.stdout;
  const stderr = io?.stderr ?? process.stderr;
  const env = io?.env ?? processEnvironment();
  const [name, ...rest] = argv;
  // A global option before the command: `convlog --verbose sync` is `convlog sync --verbose`.
  if (name === '--verbose' && rest.length > 0) return main(rest[0] === 'help' ? rest : [rest[0], name, ...rest.slice(1)], io);
  // `convlog help sync` is `convlog sync --help`.
  if (name === 'help' && rest.length > 0) return main([rest[0], '--help'], io);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? stdout : stderr).write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    // `convlog --version sync` did nothing it seemed to ask for, and said so with exit 0.
    if (rest.length > 0) {
      stderr.write(`convlog: ${name} takes nothing after it (got ${quoted(rest[0])}); for a command's options: convlog COMMAND --help\n`);
      return 2;
    }
    stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (name === '--verbose') {
    stderr.write('convlog: --verbose goes with a command, e.g. convlog --verbose status (convlog --help lists the commands)\n');
    return 2;
  }
  if (!entry && name.startsWith('-')) {
    // A mistyped global option (`--verbos status`), not a command.
    const near = nearest(GLOBAL_OPTIONS, name, 2);
    stderr.write(`convlog: unknown option ${quoted(name)}${near ? `; did you mean ${near}?` : ''} (convlog --help lists the commands and global options)\n`);
    return 2;
  }
  if (!entry) {
    const near = nearest(COMMANDS.map((c) => c.name), name, 2);
    stderr.write(`convlog: unknown command ${quoted(name)}${near ? `; did you mean ${near}?` : ''} (convlog --help lists the commands)\n`);
    return 2;
  }
  const command = await entry.load();
  // One line after the error: the usage when it is a line, else where to find it.
  const usageLine = command.usage.includes('\n')
    ? `usage: ${command.usage.split('\n')[0].trim()} (convlog ${name} --help lists the options)`
    : `usage: ${command.usage}`;

  const options = { ...command.options, verbose: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } satisfies ParseArgsOptionsConfig;
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    let tokens: ReturnType<typeof parseArgs>['tokens'];
    ({ values, positionals, tokens } = parseArgs({ args: sqlAsPositional(rest), options, allowPositionals: command.allowPositionals ?? false, strict: true, tokens: true }));
    if (!values.help) refuseRepeats(tokens ?? [], options);
  } catch (error) {
    const message = error instanceof UsageError ? error.message : await parseError(error as Error, rest, name, Object.keys(options), env, command.nothingDone);
    const action = command.actions?.find((a) => rest.includes(a));
    stderr.write(`convlog ${action ? `${name} ${action}` : name}: ${printable(message, MAX_MESSAGE)}\n${usageLine}\n`);
    return 2;
  }
  // What every line of this command's own says it is: `convlog webhook create: …`.
  const label = command.actions?.includes(positionals[0]) ? `convlog ${name} ${positionals[0]}` : `convlog ${name}`;
  if (values.help) {
    stdout.write(`usage: ${command.usage}\n${entry.summary}\n`);
    return 0;
  }

  const verbose = Boolean(values.verbose) || /^(debug|trace)$/i.test(env.LOG_LEVEL ?? '');
  // Until the environment is checked (ctx.config), an unknown LOG_LEVEL must not crash pino.
  const earlyLevel = (env.LOG_LEVEL ?? 'info').toLowerCase();
  const logTo = io ? { destination: stderr } : {};
  // --verbose means at least debug; LOG_LEVEL=trace keeps trace (the embedded Postgres's own log).
  const levelFor = (level: string) => (level === 'trace' ? 'trace' : verbose ? 'debug' : level);
  let log = createLogger(levelFor(LOG_LEVELS.includes(earlyLevel) ? earlyLevel : 'info'), logTo);
  const controller = new AbortController();
  // SIGHUP too when bin/convlog.js found a terminal attached.
  const stopSignals = program?.signals ?? ['SIGINT', 'SIGTERM'];
  let first: { signal: NodeJS.Signals; at: number } | undefined;
  let exiting = false;
  const releases = new Set<() => Promise<void>>();
  const onSignal = (signal: NodeJS.Signals) => {
    // As the signal ends a process: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP.
    const code = 128 + osConstants.signals[signal];
    if (exiting) process.exit(code);
    if (first) {
      // One stop delivered twice, not a second: coreutils `timeout` (without --foreground) signals
      // the process, then its whole process group, which holds the process too.
      if (signal === first.signal && performance.now() - first.at < DOUBLE_DELIVERY_MS) {
        log.info({ signal }, `${signal} again within ${DOUBLE_DELIVERY_MS} ms: taken as the same stop (send again to exit at once)`);
        return;
      }
      exiting = true;
      log.info({ signal }, 'exiting at once: handing back the work in flight (send again to skip that)');
      // The work in flight handed back to the queue first, if that can be done in a moment.
      void withinTime(Promise.allSettled([...releases].map((release) => release())), EXIT_AT_ONCE_GRACE_MS).finally(() => process.exit(code));
      return;
    }
    first = { signal, at: performance.now() };
    log.info({ signal }, `stopping: ${command.stopping ?? 'finishing any work in flight'} (send again to exit at once)`);
    controller.abort();
  };
  const stop = () => controller.abort();
  if (io) {
    if (io.signal?.aborted) controller.abort();
    io.signal?.addEventListener('abort', stop, { once: true });
  } else {
    // Loading the command's modules gave no signal a turn: one sent meanwhile is handled now.
    await new Promise((resolve) => setImmediate(resolve));
    if (program?.signal) {
      program.stoppedBeforeStart = true;
      stderr.write(`${label}: interrupted (${program.signal}) before starting; nothing was changed\n`);
      return 128 + osConstants.signals[program.signal];
    }
    for (const signal of stopSignals) process.on(signal, onSignal);
    program?.releaseEarlySignals();
  }

  let failNow: (error: Error) => void = () => {};
  const failed = new Promise<never>((_resolve, reject) => {
    failNow = reject;
  });
  failed.catch(() => {});
  const endings: Promise<Error>[] = [];
  const seenNow: (() => boolean)[] = [];
  let warnedOfVariables = false;
  const ctx: CommandContext = {
    get log() {
      return log;
    },
    config(options?: LoadConfigOptions) {
      const config = loadConfig(env, options);
      log = createLogger(levelFor(config.logLevel), logTo);
      // Once the values are good (a bad one is the command's one line), and once per command.
      if (!warnedOfVariables) {
        warnedOfVariables = true;
        for (const [variable, near] of misspeltVariables(env)) {
          log.warn({ variable }, `${variable} is not a variable convlog reads, so it changes nothing; did you mean ${near}?`);
        }
      }
      return config;
    },
    out: (line) => stdout.write(`${line}\n`),
    stdout,
    signal: controller.signal,
    failWhen: (ending, seen) => {
      endings.push(ending);
      if (seen) seenNow.push(seen);
      void ending.then(failNow);
    },
    beforeExitAtOnce: (release) => {
      releases.add(release);
      return () => releases.delete(release);
    },
    stderr,
    stdin: io?.stdin ?? process.stdin,
    env,
  };

  try {
    return await Promise.race([command.run(values as never, positionals, ctx), failed]);
  } catch (thrown) {
    // An embedded Postgres killed under the command fails whatever it was doing before its end is
    // seen (a poll of its pid): that end is the one line to give, not a dropped connection. Looked
    // for at once too: on a busy machine the poll's next turn may come after the moment waited.
    for (const seen of seenNow) seen();
    const error = (endings.length > 0 && !(thrown instanceof UsageError) && (await withinTime(Promise.race(endings), ENDING_GRACE_MS))) || thrown;
    // errorMessage: drizzle's own message is the whole statement and its parameters.
    const message = errorMessage(error);
    // A message may quote what someone typed or what a server answered: never raw escape bytes.
    stderr.write(`${label}: ${printable(message, verbose ? Infinity : MAX_MESSAGE)}\n`);
    if (verbose && error instanceof Error) stderr.write(`${error.stack ?? ''}\n`);
    if (!(error instanceof ConvlogError) && !verbose) {
      stderr.write('(an unexpected error: run again with --verbose for details)\n');
    }
    if (error instanceof UsageError && error.showUsage && command.usageOnError !== false) stderr.write(`${usageLine}\n`);
    // The work in flight, left behind, would only fail on and log each failure: a program ends here.
    if (!io && endsAtOnce(error)) process.exit(exitCodeFor(error));
    return exitCodeFor(error);
  } finally {
    io?.signal?.removeEventListener('abort', stop);
    for (const signal of stopSignals) process.off(signal, onSignal);
  }
}

/** Longer error messages are cut: one line on a terminal, however long a value it quotes. */
const MAX_MESSAGE = 1_000;
/** How long a failure waits for the end of its embedded server to be seen (its pid is polled every 250 ms). */
const ENDING_GRACE_MS = 1_000;
/**
 * A second identical stop signal this soon after the first is the first delivered twice (a
 * person's second Ctrl-C comes later, once the first is seen not to be enough).
 */
export const DOUBLE_DELIVERY_MS = 500;
/** How long exiting at once waits for the work in flight to be handed back to the queue. */
const EXIT_AT_ONCE_GRACE_MS = 3_000;

/**
 * An argument that starts with "-" and holds a line break is no option: it is SQL that opens with
 * a `--` comment line (the demo prints its queries so), given to `query`. It goes after a `--`, as
 * a positional, unless the arguments have one already.
 */
function sqlAsPositional(args: string[]): string[] {
  const sql = (arg: string) => arg.startsWith('-') && arg.includes('\n');
  if (args.includes('--') || !args.some(sql)) return args;
  return [...args.filter((arg) => !sql(arg)), '--', ...args.filter(sql)];
}
