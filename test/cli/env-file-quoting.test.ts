// The README exports .env into a shell for psql (`set -a; . ./.env; set +a`), and recommends a
// DATABASE_URL ending in `?sslmode=require&uselibpqcompat=true`: unquoted, the shell ends the
// assignment at the `&` and DATABASE_URL is not set at all. .env.example quotes such values; this
// checks that a shell and convlog's own reading (dotenv) take every line of it alike, and that
// convlog connects with a quoted URL whole.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dotenv from 'dotenv';
import { afterAll, expect, it } from 'vitest';
import { createEmptyDatabase } from '../helpers/database.ts';
import { runProgram } from '../helpers/cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-env-quoting-'));
const cleanups: (() => Promise<void> | void)[] = [() => fs.rmSync(dir, { recursive: true, force: true })];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** What `set -a; . FILE; set +a` leaves in a shell, for the variables the file names. */
function shellReads(file: string, names: readonly string[]): Record<string, string | undefined> {
  const script = `set -a; . "$1"; set +a; shift; for name in "$@"; do eval "printf '%s=%s\\\\0' \\"$name\\" \\"\\\${$name-<unset>}\\""; done`;
  const out = execFileSync('sh', ['-c', script, 'sh', file, ...names], { env: { PATH: process.env.PATH } }).toString();
  const values = Object.fromEntries(out.split('\0').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  return Object.fromEntries(names.map((name) => [name, values[name] === '<unset>' ? undefined : values[name]]));
}

it('.env.example, each example uncommented in turn, reads the same in a shell as in convlog', () => {
  const example = fs.readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
  const commented = example.split('\n').filter((line) => /^# [A-Z][A-Z0-9_]*=/.test(line));
  expect(commented.some((line) => line.includes('&uselibpqcompat=true'))).toBe(true);
  // One file per commented example, so that two examples of DATABASE_URL are each checked.
  for (const [i, line] of commented.entries()) {
    const text = `${example}\n${line.slice(2)}\n`;
    const file = path.join(dir, `example-${i}.env`);
    fs.writeFileSync(file, text);
    const read = dotenv.parse(text);
    expect(shellReads(file, Object.keys(read)), line).toEqual(read);
  }
});

it('a quoted DATABASE_URL with & in .env is read whole', { timeout: 60_000 }, async () => {
  const db = await createEmptyDatabase();
  cleanups.push(db.drop);
  fs.writeFileSync(path.join(dir, '.env'), `DATABASE_URL='${db.url}?sslmode=disable&application_name=convlog-quoted'\n`);
  const result = await runProgram(['query', "select current_setting('application_name') as name", '--csv'], { cwd: dir });
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toBe('name\nconvlog-quoted\n');
});
