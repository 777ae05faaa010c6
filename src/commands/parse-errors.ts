// A command line parseArgs refused, said in one line with the hint its usual slip needs (a value
// starting with a dash, a mistyped option, an unquoted cron expression, npm taking a flag as its
// own), and a flag given twice refused. src/cli.ts prints what these say.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { UsageError } from '../errors/convlog-errors.ts';
import { nearest, printable, quoted } from '../text.ts';

type Token = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];

/**
 * parseArgs keeps the last of two values of a flag without a word: `--range 1..5 --range 7..9`
 * would queue 7..9 only. A flag that is not declared `multiple` may be given once.
 */
export function refuseRepeats(tokens: readonly Token[], options: ParseArgsOptionsConfig): void {
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option' || options[token.name]?.multiple) continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name} was given twice; give it once`);
    seen.add(token.name);
  }
}

/** parseArgs's error as one line (its "ambiguous" message takes three). */
export async function parseError(
  error: Error,
  args: readonly string[],
  name: string,
  optionNames: readonly string[],
  env: NodeJS.ProcessEnv,
  nothingDone?: string,
): Promise<string> {
  const [first] = error.message.split('\n');
  // `--since -5d`: a value starting with a dash is read as a flag unless it is joined with "=".
  const ambiguous = /^Option '(-[^' ]+)' argument is ambiguous/.exec(first);
  if (ambiguous) {
    const flag = ambiguous[1];
    const long = /use '(--[^=']+)=/.exec(error.message)?.[1] ?? flag;
    const value = args[args.indexOf(flag) + 1] ?? '';
    const read = `${flag} needs a value, and ${quoted(value)} is read as an option`;
    // Imported here, not at the top: src/cli.ts loads this module at start, and no command's code
    // until it runs (backfill and schedule, which take --since, have).
    const hint = long === '--since' ? (await import('./args.ts')).sinceMinusHint(value) : undefined;
    if (hint) return `${read}: ${hint}`;
    return `${read}: write ${long}=${printable(value, 40)} to give a value starting with a dash`;
  }
  // `enqueue --sql` with nothing after it (the query lost to a shell variable left empty, say).
  const missing = /^Option '(--[^' ]+) <value>' argument missing/.exec(first);
  if (missing) return `${missing[1]} needs a value (convlog ${name} --help shows what it takes)`;
  // The argument parseArgs quotes whole, shortened like every other quoted value.
  const unknown = /^Unknown option '([\s\S]*?)'(\. To specify a positional argument[\s\S]*)?$/.exec(error.message);
  if (unknown) {
    const shown = printable(unknown[1], 40);
    // A global option, but one that goes alone: it asks for no command.
    if (unknown[1] === '--version' || unknown[1] === '-V') return `${unknown[1]} goes alone, not with a command: convlog --version`;
    // A mistyped option is far likelier than a value starting with a dash.
    const given = unknown[1].replace(/^-+/, '').split('=')[0];
    // `-f`: convlog has no one-letter options, but the one an initial stands for is plain.
    const initial = given.length === 1 ? optionNames.filter((option) => option.startsWith(given)) : [];
    const near = given.length >= 3 ? nearest(optionNames, given, 2) : initial.length === 1 ? initial[0] : undefined;
    if (near) return `Unknown option '${shown}'; did you mean --${near}? (convlog ${name} --help lists the options)`;
    if (initial.length > 1) return `Unknown option '${shown}'; did you mean ${initial.map((option) => `--${option}`).join(' or ')}? (convlog ${name} --help lists the options)`;
    // `enqueue -5`: after --, as the hint below says, it would only be refused as a ticket id.
    // parseArgs names the first letter of a group (-1 of -12), so the whole argument is looked up.
    const negative = nothingDone ? args.find((arg) => /^-\d+$/.test(arg) && arg.startsWith(unknown[1])) : undefined;
    if (negative) return `invalid ticket id ${quoted(printable(negative, 40))}: ids are positive integers; ${nothingDone}`;
    // A ticket id never starts with a dash: for the commands taking ids, the way past parseArgs is no help.
    if (nothingDone) return `Unknown option '${shown}' (convlog ${name} --help lists the options); ${nothingDone}`;
    return `Unknown option '${shown}'${unknown[2] ? `; an argument starting with "-" goes at the end, after --, as in -- "${shown}"` : ''}`;
  }
  const unexpected = /^Unexpected argument '([\s\S]*)'\. This command does not take positional arguments$/.exec(error.message);
  if (unexpected) {
    // An unquoted `--cron */5 * * * *` reaches us with each * expanded into file names.
    const hint = name === 'schedule'
      ? '; quote the cron expression, as in --cron "*/5 * * * *": the shell expands an unquoted * into file names'
      : '';
    return `Unexpected argument '${printable(unexpected[1], 40)}': ${name} takes no arguments besides its options${hint}${npmHint(env, name, optionNames, unexpected[1])}`;
  }
  return first;
}

/**
 * `npm run demo --tickets 50`, without `--`: npm takes --tickets as its own setting (it sets
 * npm_config_tickets) and hands convlog only "50". Said when a flag of the command came back so.
 */
function npmHint(env: NodeJS.ProcessEnv, name: string, optionNames: readonly string[], argument: string): string {
  const eaten = optionsTakenByNpm(env, optionNames);
  if (eaten.length === 0) return '';
  const flags = eaten.length === 1 ? `--${eaten[0]} ${printable(argument, 40)}` : eaten.map((option) => `--${option} …`).join(' ');
  return ` (through npm run, put -- before convlog's options: ${npmRunWith(env, name, flags)})`;
}

/** Under `npm run`, the command's options npm kept as settings of its own (npm_config_<option>). */
export function optionsTakenByNpm(env: NodeJS.ProcessEnv, optionNames: readonly string[]): string[] {
  if (!env.npm_lifecycle_event) return [];
  return optionNames.filter((option) => env[`npm_config_${option.replaceAll('-', '_')}`] !== undefined);
}

/** `npm run SCRIPT -- [COMMAND] FLAGS`: the `convlog` script names no command, the `demo` script does. */
export function npmRunWith(env: NodeJS.ProcessEnv, name: string, flags: string): string {
  const command = (env.npm_lifecycle_script ?? '').split(/\s+/).includes(name) ? '' : ` ${name}`;
  return `npm run ${env.npm_lifecycle_event} --${command} ${flags}`;
}
