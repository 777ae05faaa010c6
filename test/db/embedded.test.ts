// Run as root, the embedded Postgres runs as the `postgres` user, which must be able to pass
// through every folder above its data and its binaries: a folder it cannot enter must be named
// in one readable line, not surface as a bare EACCES from initdb.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertSearchable } from '../../src/db/data-dir.ts';
import { memorySettings, parallelQuerySettings } from '../../src/db/embedded-server.ts';
import { DatabaseUnavailable } from '../../src/errors/convlog-errors.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-searchable-'));
afterAll(() => {
  fs.chmodSync(path.join(root, 'closed'), 0o755);
  fs.rmSync(root, { recursive: true, force: true });
});

describe('parallelQuerySettings', () => {
  it('turns parallel workers off on two cores or fewer and leaves larger machines at the default', () => {
    expect(parallelQuerySettings(1)).toEqual({ max_parallel_workers_per_gather: '0' });
    expect(parallelQuerySettings(2)).toEqual({ max_parallel_workers_per_gather: '0' });
    expect(parallelQuerySettings(4)).toEqual({});
  });
});

describe('memorySettings', () => {
  it('gives shared buffers a quarter of the memory, between the default 128 MB and 1 GB', () => {
    const GiB = 2 ** 30;
    expect(memorySettings(24 * GiB)).toEqual({ shared_buffers: '1024MB' });
    expect(memorySettings(2 * GiB)).toEqual({ shared_buffers: '512MB' });
    expect(memorySettings(GiB / 4)).toEqual({ shared_buffers: '128MB' });
  });
});

describe('assertSearchable', () => {
  it('names the first folder others may not enter, and what to do', () => {
    fs.chmodSync(root, 0o755);
    const closed = path.join(root, 'closed');
    fs.mkdirSync(path.join(closed, 'project', 'node_modules'), { recursive: true });
    fs.chmodSync(closed, 0o700);
    const file = path.join(closed, 'project', 'node_modules', 'index.js');
    let error: unknown;
    try {
      assertSearchable(file, 'on the way to the binaries', 'move the project');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DatabaseUnavailable);
    expect((error as Error).message).toBe(
      `the embedded Postgres runs as user "postgres", which cannot enter ${closed} (on the way to the binaries): run "chmod o+x ${closed}", move the project, or set DATABASE_URL`,
    );
  });

  it('passes a path every folder of which others may enter', () => {
    const open = path.join(root, 'open', 'data');
    fs.mkdirSync(open, { recursive: true });
    fs.chmodSync(path.join(root, 'open'), 0o755);
    fs.chmodSync(open, 0o755);
    expect(() => assertSearchable(path.join(open, 'pg'), 'above the data directory', 'choose another CONVLOG_DATA_DIR')).not.toThrow();
  });
});
