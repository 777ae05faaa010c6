// The schema of an earlier release, for tests that migrate a database it wrote: a folder holding
// the first migrations of migrations/ and a journal that stops after them.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS_FOLDER } from '../../src/db/migrate.ts';

/** A migrations folder of migrations 0000 up to `count` - 1, and its removal. */
export function earlierMigrations(count: number): { folder: string; remove: () => void } {
  const folder = mkdtempSync(join(tmpdir(), 'convlog-earlier-'));
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8'));
  journal.entries = journal.entries.slice(0, count);
  mkdirSync(join(folder, 'meta'));
  writeFileSync(join(folder, 'meta/_journal.json'), JSON.stringify(journal));
  for (const entry of journal.entries) cpSync(join(MIGRATIONS_FOLDER, `${entry.tag}.sql`), join(folder, `${entry.tag}.sql`));
  return { folder, remove: () => rmSync(folder, { recursive: true, force: true }) };
}
