import type { ParseArgsOptionsConfig } from 'node:util';
import type { Config, LoadConfigOptions } from '../config.ts';
import type { Logger } from '../log.ts';

export type ArgValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** A stream a command writes to; a terminal (isTTY) gets progress bars and pretty logs. */
export type OutputStream = NodeJS.WritableStream & { isTTY?: boolean };

/**
 * What a command reads and writes besides its arguments: the process's own streams and
 * environment (.env included) when convlog runs as a program, a caller's when it runs in another
 * process (the tests run most commands in theirs, several at once).
 */
export interface CommandIo {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

export interface CommandContext {
  log: Logger;
  /** Reads and checks the environment; commands call it so `--help` works without one. */
  config(options?: LoadConfigOptions): Config;
  /** Command output (not logs) goes here. */
  out(line: string): void;
  /** The stream `out` writes to, for output written a batch at a time (a CSV as its rows come). */
  stdout: OutputStream;
  /** Aborted on the first SIGINT/SIGTERM: long commands finish what is in flight and return. */
  signal: AbortSignal;
  /**
   * Ends the command at once with the error `ending` resolves to (its one line and exit code),
   * without waiting for the work in flight: for a failure nothing could finish under
   * (src/errors/outcome.ts, endsAtOnce). A command that fails meanwhile on something else, the failure's
   * effect met before its cause was seen, is reported by that error if it comes within a moment;
   * `seenNow`, when given, looks for the cause at once then (true once `ending` is on its way).
   */
  failWhen(ending: Promise<Error>, seenNow?: () => boolean): void;
  /**
   * What a second stop signal (exit at once) does first, given a moment at most (src/cli.ts):
   * hand back the work in flight, so that it does not sit `active` until the queue's expiry.
   * Returns its removal, for when the work is done.
   */
  beforeExitAtOnce(release: () => Promise<void>): () => void;
  /** Progress and the lines that are not output (a count, a one-line refusal) go here. */
  stderr: OutputStream;
  /** `--file -` and `query -` read it. */
  stdin: NodeJS.ReadableStream;
  /** The environment the configuration was read from. */
  env: NodeJS.ProcessEnv;
}

export interface Command {
  usage: string;
  options: ParseArgsOptionsConfig;
  allowPositionals?: boolean;
  /**
   * A command's actions (`webhook create`): the first positional that names one goes into its
   * error line's prefix, so that `convlog webhook create: …` says which action failed.
   */
  actions?: readonly string[];
  /**
   * The CLI prints the usage line under a UsageError unless this is false: for commands whose
   * usage errors are all about a value (a date, a cron expression), where it would be noise.
   */
  usageOnError?: false;
  /**
   * For commands that take ticket ids: what a refused id leaves undone, ending its line
   * ("nothing was queued"), so that an id parseArgs took for an option (`-5`) says it too.
   */
  nothingDone?: string;
  /**
   * What the first SIGINT/SIGTERM does, logged as `stopping: <this> (send again to exit at once)`;
   * by default "finishing any work in flight", for commands that do have some. The same signal
   * again within DOUBLE_DELIVERY_MS is the same stop delivered twice (src/cli.ts).
   */
  stopping?: string;
  run(values: ArgValues, positionals: string[], ctx: CommandContext): Promise<number>;
}
