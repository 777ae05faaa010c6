// Ticket ids from the command line, a file or stdin, and ranges: all validated before anything
// is queued, so one bad id queues nothing.
import fs from 'node:fs';
import readline from 'node:readline';
import { UsageError } from '../errors/convlog-errors.ts';
import { unreadableFileReason } from '../errors/messages.ts';
import { MAX_ID, readId } from '../ids.ts';
import { grouped, printable, quoted } from '../text.ts';

const MAX_RANGE = 10_000_000;
/** How a refusal of enqueue's and sync's ids ends. */
export const NOTHING_QUEUED = 'nothing was queued';
/** "12,045", "1,234,567": digits grouped by threes, as a report or a spreadsheet writes one number. */
const GROUPED_NUMBER = /^\d{1,3}(,\d{3})+$/;

export interface IdSources {
  args?: readonly string[];
  /** A path, or `-` for standard input; one id per line (commas and spaces also separate). */
  file?: string;
  /** `A..B`, inclusive. */
  range?: string;
  /** What `file: '-'` reads (the process's stdin unless given). */
  stdin?: NodeJS.ReadableStream;
  /** What a refusal ends with, for the command's own verb (default "nothing was queued"). */
  nothing?: string;
  /**
   * A file (or stdin) that holds no id, only blank lines and comments, gives no ids instead of
   * an error: `psql … | convlog enqueue --file -` on a day the query finds nothing queues 0, as
   * `--sql` does, rather than failing its scheduler with exit 2.
   */
  allowEmptyFile?: boolean;
}

interface Bad {
  where: string;
  value: string;
  tooLarge: boolean;
}

export async function readTicketIds(sources: IdSources): Promise<number[]> {
  const nothing = sources.nothing ?? NOTHING_QUEUED;
  const ids: number[] = [];
  const bad: Bad[] = [];
  const take = (token: string, where: string) => {
    const reading = readId(token);
    if ('id' in reading) ids.push(reading.id);
    else bad.push({ where, value: token, tooLarge: reading.problem.startsWith('too large') });
  };
  // Commas separate ids ("1,2,3"), but "12,045" copied from a report is one number with a
  // thousands separator: read as tickets 12 and 45, a purge would erase two unrelated tickets.
  const takeAll = (text: string, where: string) => {
    for (const word of text.split(/\s+/).filter(Boolean)) {
      if (GROUPED_NUMBER.test(word)) bad.push({ where, value: word, tooLarge: false });
      else for (const token of word.split(',').filter(Boolean)) take(token, where);
    }
  };

  (sources.args ?? []).forEach((arg, i) => takeAll(arg, `argument ${i + 1}`));

  if (sources.range !== undefined) {
    const { from, to } = parseRange(sources.range, nothing);
    // A loop, not push(...range): a million arguments overflow the call stack.
    for (let id = from; id <= to; id += 1) ids.push(id);
  }

  if (sources.file !== undefined) {
    const name = sources.file === '-' ? 'stdin' : sources.file;
    const input = sources.file === '-' ? (sources.stdin ?? process.stdin) : openFile(sources.file, nothing);
    const lines = readline.createInterface({ input, crlfDelay: Infinity });
    let line = 0;
    for await (const text of lines) {
      line += 1;
      // A `#` starts a comment, on a line of its own or after the ids ("12 # vip").
      const hash = text.indexOf('#');
      const trimmed = (hash < 0 ? text : text.slice(0, hash)).trim();
      // An image, a spreadsheet or text saved as UTF-16 given by mistake: said as such, not as
      // 60,000 ids of noise. A comment in another encoding ("# José" in Latin-1) is still a comment.
      if (text.includes('\u0000') || trimmed.includes('\uFFFD')) {
        throw new UsageError(`${printable(name, 200)} is not a text file of ids: line ${line} holds bytes that are not UTF-8 text (a spreadsheet, an image, or text saved as UTF-16?); save the ids as plain text, one a line; ${nothing}`);
      }
      if (trimmed === '') continue;
      takeAll(trimmed, `${printable(name, 200)} line ${line}`);
    }
  }

  if (bad.length > 0) {
    const shown = bad.slice(0, 5).map((b) => `${quoted(b.value)} (${b.where}${b.tooLarge ? ', too large' : ''})`).join(', ');
    const more = bad.length > 5 ? ` and ${bad.length - 5} more` : '';
    const rule = bad.some((b) => b.tooLarge) ? `ids are positive integers up to ${MAX_ID}` : 'ids are positive integers';
    // "enqueue 1..5" is a span typed without its flag.
    const span = bad.find((b) => /^\d{1,16}\.\.\d{1,16}$/.test(b.value));
    const separated = bad.find((b) => GROUPED_NUMBER.test(b.value));
    const hint = span
      ? ` (for a span of ids, give --range ${span.value})`
      : separated
        ? ` (${quoted(separated.value)} reads as one number with thousands separators: write ${separated.value.replaceAll(',', '')}, or put a space after each comma for several ids)`
        : '';
    throw new UsageError(`invalid ticket id ${shown}${more}: ${rule}${hint}; ${nothing}`);
  }
  if (ids.length === 0 && sources.file !== undefined) {
    if (sources.allowEmptyFile) return [];
    const name = sources.file === '-' ? 'stdin' : `--file ${printable(sources.file, 200)}`;
    throw new UsageError(`${name} holds no ticket ids (only blank lines or comments); ${nothing}`);
  }
  if (ids.length === 0) throw new UsageError('no ticket ids given: pass ids, --file PATH (or - for stdin), or --range A..B');
  return ids;
}

function parseRange(text: string, nothing: string): { from: number; to: number } {
  const match = /^(\d+)\.\.(\d+)$/.exec(text.trim());
  const ends = match ? [readId(match[1]), readId(match[2])] : [];
  const tooLarge = ends.find((end) => 'problem' in end && end.problem.startsWith('too large'));
  if (tooLarge && 'problem' in tooLarge) throw new UsageError(`invalid --range ${quoted(text)}: an end is ${tooLarge.problem}; ${nothing}`);
  const [from, to] = ends.map((end) => ('id' in end ? end.id : undefined));
  if (from === undefined || to === undefined || to < from) {
    throw new UsageError(`invalid --range ${quoted(text)}: expected A..B with positive integers and A <= B, such as 1..500; ${nothing}`);
  }
  if (to - from + 1 > MAX_RANGE) {
    throw new UsageError(`--range ${text.trim()} spans more than ${grouped(MAX_RANGE)} tickets; split it; ${nothing}`);
  }
  return { from, to };
}

/**
 * Opened before anything is read, so that a missing file, a directory or one without read
 * permission is one line naming the path, not an error from the middle of the stream.
 */
function openFile(path: string, nothing: string): fs.ReadStream {
  const refuse = (why: string, cause?: unknown) => new UsageError(`cannot read --file ${printable(path, 200)}: ${why}; ${nothing}`, { cause });
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (error) {
    throw refuse(unreadableFileReason(error), error);
  }
  try {
    if (fs.fstatSync(fd).isDirectory()) throw refuse('it is a directory, not a file of ids');
  } catch (error) {
    fs.closeSync(fd);
    throw error instanceof UsageError ? error : refuse(unreadableFileReason(error), error);
  }
  return fs.createReadStream(path, { fd });
}
