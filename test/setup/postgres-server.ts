// Where the tests get a real Postgres: TEST_DATABASE_URL, else a testcontainers container
// when a container runtime answers, else an embedded cluster in a temporary directory.
// CONVLOG_TEST_POSTGRES=url|container|embedded forces one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/db/embedded.ts';
import { embeddedServer, embeddedUrl } from '../../src/db/embedded-server.ts';

export interface TestPostgres {
  kind: 'url' | 'container' | 'embedded';
  /** A URL with rights to create databases; its path names the maintenance database. */
  adminUrl: string;
  stop(): Promise<void>;
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const forced = process.env.CONVLOG_TEST_POSTGRES;
  const url = process.env.TEST_DATABASE_URL;
  if (forced === 'url' || (!forced && url)) {
    if (!url) throw new Error('CONVLOG_TEST_POSTGRES=url needs TEST_DATABASE_URL');
    return { kind: 'url', adminUrl: url, stop: async () => {} };
  }
  if (forced === 'container' || (!forced && (await containerRuntimeAnswers()))) {
    return startContainer();
  }
  return startEmbedded();
}

async function containerRuntimeAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function startContainer(): Promise<TestPostgres> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer('postgres:17-alpine').start();
  return {
    kind: 'container',
    adminUrl: container.getConnectionUri(),
    stop: async () => {
      await container.stop();
    },
  };
}

/**
 * A throwaway cluster: durability buys nothing when it is deleted after the run, and every file
 * clones a database, whose fsyncs would otherwise be a good part of the suite's time.
 */
const THROWAWAY_SETTINGS = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };
const PASSWORD = 'convlog-tests';

async function startEmbedded(): Promise<TestPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-test-pg-'));
  fs.chmodSync(dir, 0o755); // the `postgres` user must be able to enter it when we are root
  const port = await freePort();
  const server = await embeddedServer({ databaseDir: path.join(dir, 'pg'), port, password: PASSWORD, settings: THROWAWAY_SETTINGS });
  await server.initialise();
  await server.start();
  return {
    kind: 'embedded',
    adminUrl: embeddedUrl(port, 'postgres', PASSWORD),
    stop: async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
