import type { ParseArgsOptionsConfig } from 'node:util';
import type { Config, LoadConfigOptions } from '../config.ts';
import type { Logger } from '../log.ts';

export type ArgValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface CommandContext {
  log: Logger;
  /** Reads and checks the environment; commands call it so `--help` works without one. */
  config(options?: LoadConfigOptions): Config;
  /** Command output (not logs) goes here. */
  out(line: string): void;
  /** Aborted on the first SIGINT/SIGTERM: long commands finish what is in flight and return. */
  signal: AbortSignal;
}

export interface Command {
  usage: string;
  options: ParseArgsOptionsConfig;
  allowPositionals?: boolean;
  /**
   * The CLI prints the usage line under a UsageError unless this is false: for commands whose
   * usage errors are all about a value (a date, a cron expression), where it would be noise.
   */
  usageOnError?: false;
  run(values: ArgValues, positionals: string[], ctx: CommandContext): Promise<number>;
}
