// Ticket ids from the command line, a file or stdin, and ranges: all validated before anything
// is queued, so one bad id queues nothing.
import fs from 'node:fs';
import readline from 'node:readline';
import { UsageError } from '../errors.ts';

const MAX_RANGE = 10_000_000;

export interface IdSources {
  args?: readonly string[];
  /** A path, or `-` for standard input; one id per line (commas and spaces also separate). */
  file?: string;
  /** `A..B`, inclusive. */
  range?: string;
}

interface Bad {
  where: string;
  value: string;
}

function parseId(text: string): number | undefined {
  if (!/^\d{1,16}$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export async function readTicketIds(sources: IdSources): Promise<number[]> {
  const ids: number[] = [];
  const bad: Bad[] = [];
  const take = (token: string, where: string) => {
    const id = parseId(token);
    if (id === undefined) bad.push({ where, value: token });
    else ids.push(id);
  };

  (sources.args ?? []).forEach((arg, i) => {
    for (const token of arg.split(/[\s,]+/).filter(Boolean)) take(token, `argument ${i + 1}`);
  });

  // A loop, not push(...range): a million arguments overflow the call stack.
  if (sources.range !== undefined) for (const id of parseRange(sources.range)) ids.push(id);

  if (sources.file !== undefined) {
    const name = sources.file === '-' ? 'stdin' : sources.file;
    const input = sources.file === '-' ? process.stdin : openFile(sources.file);
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
    const shown = bad.slice(0, 5).map((b) => `"${b.value}" (${b.where})`).join(', ');
    const more = bad.length > 5 ? ` and ${bad.length - 5} more` : '';
    throw new UsageError(`invalid ticket id ${shown}${more}: ids are positive integers; nothing was queued`);
  }
  if (ids.length === 0) throw new UsageError('no ticket ids given: pass ids, --file PATH (or - for stdin), or --range A..B');
  return ids;
}

function parseRange(text: string): number[] {
  const match = /^(\d+)\.\.(\d+)$/.exec(text.trim());
  const from = match ? parseId(match[1]) : undefined;
  const to = match ? parseId(match[2]) : undefined;
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
