// A fresh, migrated database for one test file, cloned from the run's template.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { connect, type Database } from '../../src/db/connection.ts';
import { silentLogger } from '../../src/log.ts';
import { withDatabase } from '../setup/global-postgres.ts';
import { adminQuery } from './admin-query.ts';

export { adminQuery };

export interface TestDatabase extends Database {
  name: string;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const template = inject('pgTemplate');
  const pid = template.split('_').pop();
  const name = `convlog_test_${pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(adminUrl, `create database ${name} template ${template}${inject('pgCreateStrategy')}`);
  const database = await connect(withDatabase(adminUrl, name), silentLogger, 5);
  return {
    ...database,
    name,
    close: async () => {
      await database.close();
      await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
    },
  };
}

/**
 * The test file's own database, created before its first test and dropped after its last. The
 * object is filled in by the file's beforeAll, so its fields are read inside tests and hooks.
 */
export function useTestDatabase(): TestDatabase {
  const database = {} as TestDatabase;
  beforeAll(async () => {
    Object.assign(database, await createTestDatabase());
  });
  afterAll(async () => {
    await database.close?.();
  });
  return database;
}

/** An empty database (no migrations), for tests of migrate itself. */
export async function createEmptyDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = inject('pgAdminUrl');
  const pid = inject('pgTemplate').split('_').pop();
  const name = `convlog_test_${pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(adminUrl, `create database ${name}${inject('pgCreateStrategy')}`);
  return {
    url: withDatabase(adminUrl, name),
    drop: () => adminQuery(adminUrl, `drop database if exists ${name} with (force)`),
  };
}
