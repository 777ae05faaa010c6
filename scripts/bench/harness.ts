// What every benchmark needs: a Postgres (DATABASE_URL, or an embedded one in a temporary
// directory), a fresh migrated database per figure, and `convlog` child processes whose output
// is kept for when something goes wrong and whose peak memory is read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { connect, type Database } from '../../src/db/connection.ts';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { silentLogger } from '../../src/log.ts';
import { adminQuery } from '../../test/helpers/admin-query.ts';

export { freePort } from '../../src/db/embedded.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = path.join(ROOT, 'bin/convlog.js');
export const CREDENTIALS = { ZENDESK_EMAIL: 'bench@example.com', ZENDESK_API_TOKEN: 'bench-token' };
export const AUTHORIZATION = `Basic ${Buffer.from(`${CREDENTIALS.ZENDESK_EMAIL}/token:${CREDENTIALS.ZENDESK_API_TOKEN}`).toString('base64')}`;

export interface Postgres {
  kind: 'DATABASE_URL' | 'embedded';
  /** A fresh, migrated database for one figure; dropped by stop(). */
  database(label: string): Promise<Database>;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<Postgres> {
  let adminUrl = process.env.DATABASE_URL;
  let stopServer = async () => {};
  let kind: Postgres['kind'] = 'DATABASE_URL';
  if (!adminUrl) {
    kind = 'embedded';
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-bench-pg-'));
    const cluster = await startEmbeddedPostgres(dir, silentLogger);
    adminUrl = cluster.adminUrl;
    stopServer = async () => {
      await cluster.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    };
  }
  const created: string[] = [];
  const admin = (sql: string) => adminQuery(adminUrl, sql);
  return {
    kind,
    async database(label) {
      const name = `convlog_bench_${label}_${process.pid}`;
      await admin(`drop database if exists ${name} with (force)`);
      await admin(`create database ${name}`);
      created.push(name);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      const database = await connect(url.toString(), silentLogger, 10);
      await migrateDatabase(database.pool, silentLogger);
      return {
        ...database,
        // Dropped at once: a finished figure's tables must not be vacuumed during the next one.
        close: async () => {
          await database.close();
          await admin(`drop database if exists ${name} with (force)`);
        },
      };
    },
    async stop() {
      if (process.env.CONVLOG_BENCH_KEEP === '1') return stopServer();
      for (const name of created) await admin(`drop database if exists ${name} with (force)`).catch(() => {});
      await stopServer();
    },
  };
}

export interface ConvlogProcess {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  /** stdout and stderr so far. */
  output(): string;
  /** The highest VmHWM (peak resident set) read from /proc while it ran, in bytes. */
  peakRss(): number;
  /** CPU seconds (user + system) it used, as last read from /proc. */
  cpuSeconds(): number;
  /** The part of cpuSeconds spent in the kernel (system time: sockets, memory mappings). */
  kernelSeconds(): number;
  stop(): Promise<number | null>;
}

/** `node bin/convlog.js ARGS` with only the given convlog variables (none of the caller's). */
export function convlog(args: string[], env: Record<string, string>): ConvlogProcess {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|ZENDESK_|CONVLOG_|LOG_LEVEL)/.test(k)));
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...base, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let peak = 0;
  let cpu = 0;
  let kernel = 0;
  const readPeak = () => {
    try {
      const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kb * 1024);
      const stat = processStat(child.pid!);
      if (stat) [cpu, kernel] = [stat.ticks / 100, stat.systemTicks / 100];
    } catch {
      // exited, or no /proc here
    }
  };
  const poll = setInterval(readPeak, 100);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      clearInterval(poll);
      resolve(code);
    });
  });
  return {
    child,
    pid: child.pid!,
    exited,
    output: () => output,
    peakRss: () => {
      readPeak();
      return peak;
    },
    cpuSeconds: () => {
      readPeak();
      return cpu;
    },
    kernelSeconds: () => {
      readPeak();
      return kernel;
    },
    async stop() {
      readPeak();
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Resolves when the process prints a line matching `pattern`; rejects if it exits first. */
export function waitForOutput(proc: ConvlogProcess, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(proc.output());
      if (match) {
        cleanup();
        resolve(match[0]);
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${pattern}: ${proc.output().slice(-2000)}`));
    }, timeoutMs);
    const onExit = () => {
      check();
      cleanup();
      reject(new Error(`process exited before printing ${pattern}: ${proc.output().slice(-2000)}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      proc.child.stdout!.off('data', check);
      proc.child.off('exit', onExit);
    };
    proc.child.stdout!.on('data', check);
    proc.child.once('exit', onExit);
    check();
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Job outcomes: failed tickets and retries spent (a 429 must cost neither). `failed` counts the
 * tickets whose sync gave up: a worker completes the job of a ticket whose last attempt failed
 * (pg-boss's own 'failed' is only a job it abandoned), so the tickets' status tells them.
 */
export async function jobOutcomes(pool: pg.Pool): Promise<{ failed: number; retries: number; completed: number }> {
  const { rows } = await pool.query<{ failed: number; retries: number; completed: number }>(
    `select (select count(*) from zendesk.ticket_sync where status = 'failed')::int as failed,
            coalesce(sum(retry_count), 0)::int as retries,
            count(*) filter (where state = 'completed')::int as completed
       from pgboss.job where name = 'ticket-sync'`,
  );
  return rows[0];
}

export function loadAverage(): string {
  return os.loadavg().map((n) => n.toFixed(1)).join(' ');
}

export function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

/**
 * A process's parent and the CPU ticks (user + system, 1/100 s) it has used, from /proc; null
 * when it has exited or there is no /proc. Fields 4, 14 and 15 of stat, counted after the
 * command name in parentheses (which may hold spaces).
 */
function processStat(pid: number | string): { ppid: number; ticks: number; systemTicks: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), systemTicks: Number(fields[12]) };
  } catch {
    return null;
  }
}

type Ticks = { ticks: number; systemTicks: number };

/** CPU ticks of the postmaster `postmaster` and of its children (backends, background workers). */
function postgresTicks(postmaster: number): Map<string, Ticks> {
  const ticks = new Map<string, Ticks>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = processStat(entry);
    if (stat && (Number(entry) === postmaster || stat.ppid === postmaster)) ticks.set(entry, stat);
  }
  return ticks;
}

/** The pid of the postmaster serving `pool`, when it runs on this machine (else null). */
async function postmasterOf(pool: pg.Pool): Promise<number | null> {
  const { rows } = await pool.query<{ pid: number }>('select pg_backend_pid() as pid');
  return processStat(rows[0].pid)?.ppid ?? null;
}

/**
 * Measures the CPU the benchmark's Postgres spends from now until `stop()` (null when that
 * server is on another machine), sampling often enough to count backends that exit before the
 * end (up to their last sample). Only that server's processes count: another Postgres on the
 * machine (a developer's own, another benchmark's) is not this run's cost.
 */
export async function postgresCpuMeter(pool: pg.Pool): Promise<{ stop(): { seconds: number; kernelSeconds: number } | null }> {
  const postmaster = await postmasterOf(pool);
  if (postmaster === null) return { stop: () => null };
  const before = postgresTicks(postmaster);
  const last = new Map<string, Ticks>();
  const sample = () => {
    for (const [pid, ticks] of postgresTicks(postmaster)) last.set(pid, ticks);
  };
  const timer = setInterval(sample, 100);
  return {
    stop() {
      clearInterval(timer);
      sample();
      let [spent, kernel] = [0, 0];
      for (const [pid, { ticks, systemTicks }] of last) {
        spent += ticks - (before.get(pid)?.ticks ?? 0);
        kernel += systemTicks - (before.get(pid)?.systemTicks ?? 0);
      }
      return { seconds: spent / 100, kernelSeconds: kernel / 100 };
    },
  };
}
