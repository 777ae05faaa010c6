// For the tests of what convlog says while a rate limit holds it back (work-waits,
// sync-progress): the wait lines a command logged, and another integration spending the
// simulator's window behind convlog's back.
import { expect } from 'vitest';

export interface LogLine {
  msg: string;
  [field: string]: unknown;
}

/** The JSON log lines in `stderr` that say the command waits. */
export function waitLines(stderr: string): LogLine[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine)
    .filter((line) => line.msg.startsWith('waiting '));
}

/** GETs `url` `times` times with credentials of someone else: the simulator counts them in its window, convlog's budget never hears of them. */
export async function spendOutside(url: string, times: number): Promise<void> {
  const authorization = `Basic ${Buffer.from('someone@example.com/token:other').toString('base64')}`;
  for (let i = 0; i < times; i++) {
    const response = await fetch(url, { headers: { authorization } });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  }
}

/** Resolves once `what` holds, or after `ms` (the caller's expectation then says what is missing). */
export async function until(what: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !what() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 100));
}
