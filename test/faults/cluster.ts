// A Postgres cluster of the test's own that it can stop and start again on the same port and data
// directory, so restarting it leaves the suite's shared cluster alone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/db/embedded.ts';
import { embeddedServer, embeddedUrl } from '../../src/db/embedded-server.ts';
import { adminQuery } from '../helpers/database.ts';

export interface OwnCluster {
  port: number;
  url(database: string): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster and removes its files. */
  destroy(): Promise<void>;
}

const PASSWORD = 'fault-suite-pg';

export async function startOwnCluster(): Promise<OwnCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-fault-pg-'));
  fs.chmodSync(dir, 0o755); // the `postgres` user must be able to enter it
  const port = await freePort();
  // A password of the suite's own, so that the checks for it in every output mean something.
  const server = await embeddedServer({ databaseDir: path.join(dir, 'pg'), port, password: PASSWORD, settings: { max_connections: '200' } });
  await server.initialise();
  await server.start();
  let running = true;
  const url = (database: string) => embeddedUrl(port, database, PASSWORD);
  return {
    port,
    url,
    async stop() {
      if (!running) return;
      running = false;
      await server.stop();
    },
    async start() {
      if (running) return;
      await server.start();
      running = true;
    },
    async destroy() {
      if (running) await server.stop().catch(() => {});
      running = false;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function createDatabase(cluster: OwnCluster, name: string): Promise<string> {
  await adminQuery(cluster.url('postgres'), `create database ${name}`);
  return cluster.url(name);
}
