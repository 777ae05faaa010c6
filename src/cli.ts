// Argument parsing and wiring only: each command lives in src/commands/.
import { parseArgs } from 'node:util';
import pkg from '../package.json' with { type: 'json' };
import { LOG_LEVELS, loadConfig, type LoadConfigOptions } from './config.ts';
import { ConvlogError, exitCodeFor, UsageError } from './errors.ts';
import { createLogger } from './log.ts';
import { backfill } from './commands/backfill.ts';
import { dbServer } from './commands/db-server.ts';
import { demo } from './commands/demo.ts';
import { enqueue } from './commands/enqueue.ts';
import { grantReadonly } from './commands/grant-readonly.ts';
import { migrate } from './commands/migrate.ts';
import { purge } from './commands/purge.ts';
import { rebuildAnalyticsCommand } from './commands/rebuild-analytics.ts';
import { query } from './commands/query.ts';
import { schedule, unschedule } from './commands/schedule.ts';
import { serve } from './commands/serve.ts';
import { simulator } from './commands/simulator.ts';
import { status } from './commands/status.ts';
import { sync } from './commands/sync.ts';
import { webhook } from './commands/webhook.ts';
import { work } from './commands/work.ts';
import type { Command, CommandContext } from './commands/types.ts';

const COMMANDS: Command[] = [migrate, enqueue, work, sync, backfill, schedule, unschedule, status, serve, webhook, grantReadonly, dbServer, query, purge, rebuildAnalyticsCommand, simulator, demo];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: convlog <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'global options: --verbose (debug logs and stack traces), --help, --version',
    'configuration: environment variables or .env (see .env.example)',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? process.stdout : process.stderr).write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`convlog: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }

  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: { ...command.options, verbose: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: command.allowPositionals ?? false,
      strict: true,
    }));
  } catch (error) {
    // An unquoted `--cron */5 * * * *` reaches us with each * expanded into file names.
    const hint = name === 'schedule' && /Unexpected argument/.test((error as Error).message)
      ? '\n(quote the cron expression, as in --cron "*/5 * * * *": the shell expands an unquoted * into file names)'
      : '';
    process.stderr.write(`convlog ${name}: ${(error as Error).message}${hint}\nusage: ${command.usage}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`usage: ${command.usage}\n${command.summary}\n`);
    return 0;
  }

  const verbose = Boolean(values.verbose) || /^(debug|trace)$/i.test(process.env.LOG_LEVEL ?? '');
  // Until the environment is checked (ctx.config), an unknown LOG_LEVEL must not crash pino.
  const earlyLevel = (process.env.LOG_LEVEL ?? 'info').toLowerCase();
  let log = createLogger(verbose ? 'debug' : LOG_LEVELS.includes(earlyLevel) ? earlyLevel : 'info');
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    log.info({ signal }, 'stopping: finishing work in flight (send again to exit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const ctx: CommandContext = {
    get log() {
      return log;
    },
    config(options?: LoadConfigOptions) {
      const config = loadConfig(undefined, options);
      log = createLogger(verbose ? 'debug' : config.logLevel);
      return config;
    },
    out: (line) => process.stdout.write(`${line}\n`),
    signal: controller.signal,
  };

  try {
    return await command.run(values as never, positionals, ctx);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`convlog ${name}: ${message}\n`);
    if (verbose && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
    if (!(error instanceof ConvlogError) && !verbose) {
      process.stderr.write('(an unexpected error: run again with --verbose for details)\n');
    }
    if (error instanceof UsageError && error.showUsage && command.usageOnError !== false) process.stderr.write(`usage: ${command.usage}\n`);
    return exitCodeFor(error);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

process.exitCode = await main(process.argv.slice(2));
// Everything is closed by now; a library timer or socket left behind must not keep a finished
// command alive (the timer is unref'd, so a clean exit does not wait for it).
setTimeout(() => process.exit(), 2_000).unref();
