// migrations/ must be exactly what drizzle-kit generates from src/db/schema.ts (the tables in
// src/db/schema/).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

it('src/db/schema.ts and migrations/ agree', () => {
  // drizzle-kit takes `out` relative to the project, so the scratch copy lives inside it.
  fs.mkdirSync(path.join(root, 'node_modules/.cache'), { recursive: true });
  const scratch = fs.mkdtempSync(path.join(root, 'node_modules/.cache/convlog-drift-'));
  fs.cpSync(path.join(root, 'migrations'), scratch, { recursive: true });
  const before = fs.readdirSync(scratch).sort();
  const output = execFileSync(
    process.execPath,
    [path.join(root, 'node_modules/drizzle-kit/bin.cjs'), 'generate', '--config', path.join(root, 'drizzle.config.ts')],
    { cwd: root, env: { ...process.env, DRIZZLE_OUT: path.relative(root, scratch) }, encoding: 'utf8' },
  );
  const after = fs.readdirSync(scratch).sort();
  fs.rmSync(scratch, { recursive: true, force: true });
  expect(output).toMatch(/No schema changes/);
  expect(after, `the schema changed without a migration: run "npm run db:generate"\n${output}`).toEqual(before);
});
