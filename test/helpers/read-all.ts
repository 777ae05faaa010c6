// A person's query run as `convlog query` runs it (src/db/run-read-only.ts), every row kept: for
// tests of what it returns and how it ends.
import type pg from 'pg';
import { streamReadOnly, type ResultColumn, type RowSink } from '../../src/db/run-read-only.ts';

export interface ReadAll {
  columns: ResultColumn[];
  rows: (string | null)[][];
}

export async function readAll(pool: pg.Pool, sql: string, timeoutMs: number, options: { signal?: AbortSignal; rowsPerFetch?: number } = {}): Promise<ReadAll> {
  const result: ReadAll = { columns: [], rows: [] };
  const sink: RowSink = {
    columns: (columns) => void (result.columns = columns),
    rows: (batch) => void result.rows.push(...batch),
  };
  await streamReadOnly(pool, sql, timeoutMs, sink, options);
  return result;
}
