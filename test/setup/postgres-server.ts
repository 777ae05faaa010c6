// Where the tests get a real Postgres: TEST_DATABASE_URL, else a testcontainers container
// when a container runtime answers, else an embedded cluster in a temporary directory.
// CONVLOG_TEST_POSTGRES=url|container|embedded forces one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { silentLogger } from '../../src/log.ts';

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

async function startEmbedded(): Promise<TestPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-test-pg-'));
  const cluster = await startEmbeddedPostgres(dir, silentLogger);
  return {
    kind: 'embedded',
    adminUrl: cluster.adminUrl,
    stop: async () => {
      await cluster.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
