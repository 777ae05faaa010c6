// The command the Dockerfile and the systemd unit run, run here as they run it (node itself, by
// its pid): SIGTERM to that pid must end the worker with exit 0 within 30 s, leaving no process.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanEnv } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const deployFile = (name: string) => readFileSync(`${ROOT}/deploy/${name}`, 'utf8');

/** The exec-form CMD of the Dockerfile, WORKDIR being the repository root. */
function dockerCommand(): { argv: string[]; cwd: string } {
  const dockerfile = deployFile('Dockerfile');
  const cmd = [...dockerfile.matchAll(/^CMD\s+(.+)$/gm)].at(-1)?.[1];
  expect(cmd, 'the Dockerfile has a CMD').toBeDefined();
  // Exec form (a JSON array), or the shell would be PID 1 and SIGTERM would not reach node.
  const argv = JSON.parse(cmd!) as string[];
  expect(argv[0]).toBe('node');
  expect(dockerfile).toMatch(/^WORKDIR \/opt\/convlog$/m);
  expect(dockerfile).toMatch(/^USER (?!root)\w+$/m);
  expect(dockerfile).toMatch(/^HEALTHCHECK /m);
  return { argv: [process.execPath, ...argv.slice(1)], cwd: ROOT };
}

/** ExecStart of the unit, with /usr/bin/node and /opt/convlog standing for this Node and this checkout. */
function unitCommand(): { argv: string[]; cwd: string } {
  const unit = deployFile('convlog-worker.service');
  const setting = (name: string) => new RegExp(`^${name}=(.+)$`, 'm').exec(unit)?.[1].trim();
  expect(setting('KillSignal')).toBe('SIGTERM');
  expect(setting('WorkingDirectory')).toBe('/opt/convlog');
  const argv = setting('ExecStart')!.split(/\s+/);
  expect(argv[0]).toBe('/usr/bin/node');
  return {
    argv: [process.execPath, ...argv.slice(1).map((a) => a.replace(/^\/opt\/convlog(?=\/)/, ROOT))],
    cwd: ROOT,
  };
}

/** Pids of every process whose environment carries `marker`: the worker and anything it started. */
function processesMarked(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(marker)) found.push(Number(entry));
    } catch {
      // Gone meanwhile, or another user's.
    }
  }
  return found;
}

let fixture: Fixture;

beforeAll(async () => {
  // Tickets with slow pages, so SIGTERM arrives while requests are in flight.
  fixture = await createFixture({ tickets: 4, ticketSizes: { 1: 600, 2: 600, 3: 600, 4: 600 }, latency: 300 }, { queue: [1, 2, 3, 4] });
});
afterAll(async () => {
  await fixture?.close();
});

describe.each([
  ['the Dockerfile CMD', dockerCommand],
  ['the systemd unit ExecStart', unitCommand],
])('%s', (_name, command) => {
  it('runs a worker that SIGTERM stops with exit 0 within 30 s, leaving nothing running', async () => {
    const { argv, cwd } = command();
    const storedEvents = async () =>
      (await fixture.database.pool.query<{ n: number }>('select count(*)::int as n from zendesk.conversation_events')).rows[0].n;
    const before = await storedEvents();
    // Not a CONVLOG_ name: convlog warns of those it does not know.
    const marker = `DEPLOY_TEST_MARKER=${randomBytes(6).toString('hex')}`;
    const [name, value] = marker.split('=');
    const child = spawn(argv[0], argv.slice(1), { cwd, env: cleanEnv({ ...fixture.env, LOG_LEVEL: 'info', [name]: value }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
    try {
      // Started and working: a page stored by this process.
      await vi.waitFor(async () => expect(stderr.includes('worker started') && (await storedEvents()) > before, `the worker did not start working: ${stderr}`).toBe(true), {
        timeout: 60_000,
        interval: 100,
      });
      // The pid we started is the worker itself: no wrapper between it and the signal.
      expect(processesMarked(value)).toEqual([child.pid]);

      const signalled = Date.now();
      process.kill(child.pid!, 'SIGTERM');
      const exit = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 30_000))]);
      expect(exit, `no exit within 30 s of SIGTERM: ${stderr}`).toBeDefined();
      expect(exit!.code, stderr).toBe(0);
      expect(exit!.at - signalled).toBeLessThan(30_000);
      expect(stderr).toContain('worker stopped');
      expect(processesMarked(value)).toEqual([]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});
