// Ticket ids from the command line, a file or stdin, and ranges: all validated before anything
// is queued, so one bad id queues nothing.
import fs from 'node:fs';
import readline from 'node:readline';
import { UsageError } from '../errors.ts';
import { MAX_ID, readId } from '../ids.ts';

const MAX_RANGE = 10_000_000;

export interface IdSources {
  args?: readonly string[];
  /** A path, or `-` for standard input; one id per line (commas and spaces also separate). */
  file?: string;
  /** `A..B`, inclusive. */
  range?: string;
  /** What `file: '-'` reads (the process's stdin unless given). */
  stdin?: NodeJS.ReadableStream;
}

interface Bad {
  where: string;
  value: string;
  tooLarge: boolean;
}

export async function readTicketIds(sources: IdSources): Promise<number[]> {
  const ids: number[] = [];
  const bad: Bad[] = [];
  const take = (token: string, where: string) => {
    const reading = readId(token);
    if ('id' in reading) ids.push(reading.id);
    else bad.push({ where, value: token, tooLarge: reading.problem.startsWith('too large') });
  };

  (sources.args ?? []).forEach((arg, i) => {
    for (const token of arg.split(/[\s,]+/).filter(Boolean)) take(token, `argument ${i + 1}`);
  });

  // A loop, not push(...range): a million arguments overflow the call stack.
  if (sources.range !== undefined) for (const id of parseRange(sources.range)) ids.push(id);

  if (sources.file !== undefined) {
    const name = sources.file === '-' ? 'stdin' : sources.file;
    const input = sources.file === '-' ? (sources.stdin ?? process.stdin) : openFile(sources.file);
    const lines = readline.createInterface({ input, crlfDelay: Infinity });
    let line = 0;
    for await (const text of lines) {
      line += 1;
      const trimmed = text.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      for (const token of trimmed.split(/[\s,]+/).filter(Boolean)) take(token, `${name} line ${line}`);
    }
  }

  if (bad.length > 0) {
    const shown = bad.slice(0, 5).map((b) => `"${b.value}" (${b.where}${b.tooLarge ? ', too large' : ''})`).join(', ');
    const more = bad.length > 5 ? ` and ${bad.length - 5} more` : '';
    const rule = bad.some((b) => b.tooLarge) ? `ids are positive integers up to ${MAX_ID}` : 'ids are positive integers';
    throw new UsageError(`invalid ticket id ${shown}${more}: ${rule}; nothing was queued`);
  }
  if (ids.length === 0) throw new UsageError('no ticket ids given: pass ids, --file PATH (or - for stdin), or --range A..B');
  return ids;
}

function parseRange(text: string): number[] {
  const match = /^(\d+)\.\.(\d+)$/.exec(text.trim());
  const ends = match ? [readId(match[1]), readId(match[2])] : [];
  const tooLarge = ends.find((end) => 'problem' in end && end.problem.startsWith('too large'));
  if (tooLarge && 'problem' in tooLarge) throw new UsageError(`invalid --range "${text}": an end is ${tooLarge.problem}; nothing was queued`);
  const [from, to] = ends.map((end) => ('id' in end ? end.id : undefined));
  if (from === undefined || to === undefined || to < from) {
    throw new UsageError(`invalid --range "${text}": expected A..B with positive integers and A <= B, such as 1..500; nothing was queued`);
  }
  if (to - from + 1 > MAX_RANGE) {
    throw new UsageError(`--range ${text} spans more than ${MAX_RANGE.toLocaleString('en')} tickets; split it; nothing was queued`);
  }
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function openFile(path: string): fs.ReadStream {
  try {
    fs.accessSync(path, fs.constants.R_OK);
  } catch {
    throw new UsageError(`cannot read --file ${path}: no such readable file; nothing was queued`);
  }
  return fs.createReadStream(path);
}
