// Each fault scenario reports what it injected and what it checked: one line in the test's own
// output, and one JSON line in a file that the suite's global teardown prints as a table.
import fs from 'node:fs';
import { inject } from 'vitest';
import type { Verdict } from './harness.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    faultSummaryFile: string;
  }
}

export interface SummaryRow {
  scenario: string;
  injected: string;
  checked: string;
  expected?: number;
  stored?: number;
  duplicates?: number;
  lost?: number;
  seconds: number;
  result: 'pass' | 'FAIL';
}

/** Records one scenario's line; call it before the assertions so a failure is reported too. */
export function report(row: SummaryRow): void {
  const counts = row.expected === undefined ? '' : ` | events expected ${row.expected}, stored ${row.stored}, duplicates ${row.duplicates}, lost ${row.lost}`;
  console.log(`[fault] ${row.result} ${row.scenario} (${row.seconds.toFixed(1)} s) | injected: ${row.injected} | checked: ${row.checked}${counts}`);
  fs.appendFileSync(inject('faultSummaryFile'), `${JSON.stringify(row)}\n`);
}

/** The counts part of a row, from a verify() verdict. */
export function counts(v: Verdict): Pick<SummaryRow, 'expected' | 'stored' | 'duplicates' | 'lost'> {
  return { expected: v.expected, stored: v.stored, duplicates: v.duplicates, lost: v.lost };
}
