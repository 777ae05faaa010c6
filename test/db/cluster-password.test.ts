// The embedded cluster's one login is a superuser, which can run programs as the server's user
// (COPY … TO PROGRAM). Its password was `convlog` in every install, so any local user could log in
// on the port (127.0.0.1 is every local user's) and read the `.env` beside it. Each data folder now
// has a password of its own, in a file only its user reads (src/db/cluster-password.ts); a cluster
// made before is given one at its next start; initdb is handed it in a folder others cannot list.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { passwordFile, SHARED_PASSWORD } from '../../src/db/cluster-password.ts';
import { freePort } from '../../src/db/embedded.ts';
import { isAlive } from '../../src/db/postmaster.ts';
import { embeddedServer, embeddedUrl } from '../../src/db/embedded-server.ts';
import { runProgram, startConvlog } from '../helpers/cli.ts';
import { createEmbeddedCluster, type EmbeddedCluster } from '../helpers/embedded-cluster.ts';

const made: EmbeddedCluster[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const cluster of made) await cluster.remove();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** How the server answers a login with the URL's password: 'in', or the refusal's SQLSTATE. */
async function login(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  try {
    await client.connect();
    return 'in';
  } catch (error) {
    return String((error as { code?: string }).code ?? error);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Gives the login of the server at `url` another password. */
async function setPassword(url: string, password: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`alter role current_user password ${client.escapeLiteral(password)}`);
  } finally {
    await client.end();
  }
}

/**
 * What the server on `port` asks a client logging in as convlog for: the code of its first
 * authentication request (10: SASL, that is SCRAM; 5: an md5 challenge; 3: the password as it is).
 */
async function passwordRequest(port: number): Promise<number> {
  const params = Buffer.from('user\0convlog\0database\0postgres\0\0');
  const startup = Buffer.alloc(8);
  startup.writeInt32BE(8 + params.length, 0);
  startup.writeInt32BE(196608, 4); // protocol 3.0
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(Buffer.concat([startup, params])));
    socket.once('data', (reply) => {
      socket.destroy();
      if (reply[0] !== 'R'.charCodeAt(0)) reject(new Error(`not an authentication request: ${reply.toString('latin1', 0, 1)}`));
      else resolve(reply.readInt32BE(5));
    });
    socket.once('error', reject);
  });
}

/** The port of the server running on `dataDir`'s cluster, from its postmaster.pid. */
function port(dataDir: string): number {
  return Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[3]);
}

it('gives a new cluster a password of its own, kept where only its user reads it; the shared one is refused', { timeout: 180_000 }, async () => {
  const cluster = await createEmbeddedCluster('convlog-cluster-password-');
  made.push(cluster);

  const file = passwordFile(cluster.dataDir);
  const password = fs.readFileSync(file, 'utf8').trim();
  expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);

  const server = await cluster.startServer();
  try {
    const at = port(cluster.dataDir);
    // db-server's URL for psql and BI tools carries it: the one place a person learns it.
    expect(server.stdout()).toContain(`psql "postgres://convlog:${password}@127.0.0.1:${at}/convlog"`);
    expect(await login(embeddedUrl(at, 'postgres', password))).toBe('in');
    expect(await login(embeddedUrl(at, 'postgres', SHARED_PASSWORD))).toBe('28P01');

    // The server's owner as an earlier release runs it: with the password every install shared.
    // A command sharing it says so in one line, instead of a refused login naming DATABASE_URL.
    await setPassword(embeddedUrl(at, 'postgres', password), SHARED_PASSWORD);
    const shared = await runProgram(['query', 'select 1'], { env: cluster.env, timeoutMs: 60_000 });
    expect(shared.code).toBe(2);
    expect(shared.stderr.trim()).toBe(
      `convlog query: the embedded Postgres in ${cluster.dataDir}, run by convlog process ${server.pid}, refuses the password in ${file}: ` +
        'that process is of an earlier release, whose server has the password every install shared; stop it, then run this command again',
    );
    await setPassword(embeddedUrl(at, 'postgres', SHARED_PASSWORD), password);
  } finally {
    server.kill('SIGTERM');
    await server.exited;
  }

  // A password file that no longer matches is one line saying so, not a failed login of pg's.
  fs.writeFileSync(file, 'not-the-one-it-was-made-with\n');
  const refused = await runProgram(['status'], { env: cluster.env, timeoutMs: 120_000 });
  expect(refused.code).toBe(2);
  expect(refused.stderr.trim()).toBe(
    `convlog status: the embedded Postgres in ${cluster.dataDir} refuses the password in ${file} (deleted or changed since the cluster was made?): ` +
      `put back the one it was made with, or start over by deleting ${path.join(cluster.dataDir, 'pg')}`,
  );
  expect(cluster.postmaster() === undefined || !isAlive(cluster.postmaster()!), 'the server it started is stopped').toBe(true);
  fs.writeFileSync(file, `${password}\n`);
});

it('hands initdb the password outside the shared temporary folder', { timeout: 180_000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-initdb-tmp-'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-initdb-data-'));
  dirs.push(tmp, dir);
  fs.chmodSync(tmp, 0o1777);
  fs.chmodSync(dir, 0o755); // the embedded Postgres runs as another user when tests run as root
  const seen: string[] = [];
  const watcher = fs.watch(tmp, (_event, name) => name && seen.push(name));
  const dataDir = path.join(dir, 'data');
  const first = await runProgram(['status'], { env: { CONVLOG_DATA_DIR: dataDir, DATABASE_URL: undefined, TMPDIR: tmp }, timeoutMs: 120_000 });
  watcher.close();
  expect(first.code, first.stderr).toBe(0);
  expect(fs.existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
  expect(seen.filter((name) => name.startsWith('pg-password'))).toEqual([]);
  expect(fs.readdirSync(dataDir).filter((name) => name.startsWith('pg-init-'))).toEqual([]);

  // One a command killed during initdb left, its password file in it, goes at the next start.
  fs.mkdirSync(path.join(dataDir, 'pg-init-Ab12Cd'));
  fs.writeFileSync(path.join(dataDir, 'pg-init-Ab12Cd', 'pg-password-xyz'), 'left behind\n');
  const again = await runProgram(['status'], { env: { CONVLOG_DATA_DIR: dataDir, DATABASE_URL: undefined }, timeoutMs: 120_000 });
  expect(again.code, again.stderr).toBe(0);
  expect(fs.readdirSync(dataDir).filter((name) => name.startsWith('pg-init-'))).toEqual([]);
});

it('gives a cluster made with the shared password one of its own at its next start', { timeout: 180_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-old-cluster-'));
  dirs.push(dir);
  fs.chmodSync(dir, 0o755);
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { mode: 0o755 });
  // As a release before this one made it: the shared password, no pg-password file.
  const old = await embeddedServer({ databaseDir: path.join(dataDir, 'pg'), port: await freePort(), password: SHARED_PASSWORD });
  await old.initialise();
  expect(fs.existsSync(passwordFile(dataDir))).toBe(false);
  // Those releases also had the server ask for the password as it is.
  const rules = path.join(dataDir, 'pg', 'pg_hba.conf');
  fs.writeFileSync(rules, fs.readFileSync(rules, 'utf8').replaceAll('scram-sha-256', 'password'));
  expect(fs.readFileSync(rules, 'utf8')).toMatch(/^host\s.*\spassword$/m);

  const env = { CONVLOG_DATA_DIR: dataDir, DATABASE_URL: undefined, LOG_LEVEL: 'info' };
  const status = await runProgram(['status'], { env, timeoutMs: 120_000 });
  expect(status.code, status.stderr).toBe(0);
  expect(status.stderr).toContain('the embedded Postgres now has a password of its own');
  const password = fs.readFileSync(passwordFile(dataDir), 'utf8').trim();

  const server = startConvlog(['db-server'], { env });
  try {
    while (!/psql /.test(server.stdout())) {
      if (server.process.exitCode !== null) throw new Error(server.stderr());
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await login(embeddedUrl(port(dataDir), 'postgres', password))).toBe('in');
    expect(await login(embeddedUrl(port(dataDir), 'postgres', SHARED_PASSWORD))).toBe('28P01');
    // SCRAM, where that release's rules asked for the password as it is (3).
    expect(await passwordRequest(port(dataDir))).toBe(10);
    // Once is enough: the next start says nothing of it.
    expect(server.stderr()).not.toContain('a password of its own');
  } finally {
    server.kill('SIGTERM');
    await server.exited;
  }
});
