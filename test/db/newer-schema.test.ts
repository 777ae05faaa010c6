// A database a newer convlog migrated: drizzle would apply nothing and this release would run on
// a schema it does not know. Every command that migrates refuses it in one line instead.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { MIGRATIONS_FOLDER, migrateDatabase } from '../../src/db/migrate.ts';
import { ConfigError } from '../../src/errors/convlog-errors.ts';
import { silentLogger } from '../../src/log.ts';
import { runCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/database.ts';

const database = useTestDatabase();

it('refuses a database whose schema is newer than this release, in one line, and changes nothing', async () => {
  expect(await migrateDatabase(database.pool, silentLogger)).toEqual({ applied: 0 });
  const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: { when: number }[] };
  const newer = journal.entries.at(-1)!.when + 60_000;
  await database.pool.query(`insert into drizzle.__drizzle_migrations (hash, created_at) values ('a-newer-release', $1)`, [newer]);
  const count = async () => Number((await database.pool.query('select count(*) as n from drizzle.__drizzle_migrations')).rows[0].n);
  const before = await count();

  await expect(migrateDatabase(database.pool, silentLogger)).rejects.toThrow(ConfigError);
  await expect(migrateDatabase(database.pool, silentLogger)).rejects.toThrow(/migrated by a newer convlog than this one \(whose last migration is \d{4}_\w+\)/);
  const status = await runCli(['status'], { env: { DATABASE_URL: database.url } });
  expect(status.code).toBe(2);
  expect(status.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^convlog status: the database was migrated by a newer convlog/)]);
  expect(await count()).toBe(before);
});
