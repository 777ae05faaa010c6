// How tests run convlog. `runCli` runs a command inside the test's process (src/cli.ts main, with
// its own streams and environment): the same parsing, configuration, command and exit code, at a
// tenth of the CPU of a new Node process, most of which goes to loading modules. `runProgram` and
// `startConvlog` start the real entry point, `node bin/convlog.js ARGS`, spawned directly so the
// child's pid is the Node process itself and a signal sent to it reaches convlog (no npx or shell
// in between): for what only a process shows (signals, its working directory and .env, pipes
// closed early, the exit of a process with something left open).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli.ts';
import type { CommandContext } from '../../src/commands/types.ts';
import { silentLogger } from '../../src/log.ts';

export const BIN = fileURLToPath(new URL('../../bin/convlog.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Written to stdin, which is then closed (closed at once without it). */
  input?: string;
  timeoutMs?: number;
  /** Stops the command as Ctrl-C does (in-process `runCli` only); already aborted: before it starts. */
  signal?: AbortSignal;
}

/**
 * Node's on-disk compile cache (type-stripped and compiled modules): a test run starts convlog
 * dozens of times, and with the cache each start costs about a third less CPU. In the clone, not
 * the shared temporary folder, where another local user could fill it first (bin/convlog.js).
 */
const COMPILE_CACHE = path.join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'convlog-test-compile-cache');

/**
 * Variables of the developer's own shell that must not leak into a test's command; npm's too
 * (`npm test` sets INIT_CWD and npm_*), which convlog reads as being run by `npm run`.
 */
const SCRUBBED = /^(DATABASE_URL|ZENDESK_|CONVLOG_|LOG_LEVEL|INIT_CWD$|npm_)/;

export function cleanEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SCRUBBED.test(k)));
  const merged: NodeJS.ProcessEnv = { ...base, LOG_LEVEL: 'warn', NODE_COMPILE_CACHE: COMPILE_CACHE };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  return merged;
}

export interface Exit {
  /** Null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when it ended. */
  at: number;
}

/** A running `convlog` process. */
export interface Convlog {
  process: ChildProcess;
  pid: number;
  startedAt: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /** Sends `signal` unless the process has already ended. */
  kill(signal: NodeJS.Signals): void;
}

/** How `command` ended, or 'running' if it had not within `ms`. */
export function endedWithin(command: Convlog, ms: number): Promise<Exit | 'running'> {
  return Promise.race([command.exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), ms))]);
}

const live = new Set<Convlog>();

/** Starts `convlog ARGS` and returns at once; the caller waits for `exited` or kills it. */
export function startConvlog(args: string[], options: Omit<CliOptions, 'timeoutMs'> = {}): Convlog {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: cleanEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  // A child that exits before reading its input must not fail the test with EPIPE.
  child.stdin!.on('error', () => {});
  child.stdin!.end(options.input ?? '');
  const exited = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
  const proc: Convlog = {
    process: child,
    pid: child.pid!,
    startedAt: Date.now(),
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  live.add(proc);
  const forget = () => live.delete(proc);
  void exited.then(forget, forget);
  return proc;
}

/**
 * Runs `convlog ARGS` to its end inside this process; after `timeoutMs` it is stopped as by
 * Ctrl-C, and the test fails if it has not returned 10 s later. With `cwd`, it runs as a process
 * (a working directory belongs to the process).
 */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult & { ms: number }> {
  if (options.cwd !== undefined) return runProgram(args, options);
  const started = Date.now();
  const stdout = textSink();
  const stderr = textSink();
  const controller = new AbortController();
  if (options.signal?.aborted) controller.abort();
  options.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      timer = setTimeout(() => reject(new Error(`convlog ${args.join(' ')} did not finish within ${timeoutMs + 10_000} ms`)), 10_000);
    }, timeoutMs);
  });
  try {
    const io = { stdout: stdout.stream, stderr: stderr.stream, stdin: Readable.from([options.input ?? '']), env: cleanEnv(options.env), signal: controller.signal };
    const code = await Promise.race([main(args, io), stuck]);
    return { code, stdout: stdout.text(), stderr: stderr.text(), ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** A stream that keeps what is written to it, as text. */
export function textSink(): { stream: Writable; text(): string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

/** Runs `node bin/convlog.js ARGS` to its end; SIGKILLs it after `timeoutMs`. */
export async function runProgram(args: string[], options: CliOptions = {}): Promise<CliResult & { ms: number }> {
  const proc = startConvlog(args, options);
  const timer = setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const exit = await proc.exited.finally(() => clearTimeout(timer));
  return { code: exit.code, stdout: proc.stdout(), stderr: proc.stderr(), ms: exit.at - proc.startedAt };
}

/** SIGKILLs every convlog process this test file started that still runs (for afterAll/afterEach). */
/** A bash script run to its end, its output collected (for pipelines and command lines as a shell runs them). */
export function runBash(script: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd: options.cwd, env: options.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function killAll(): Promise<void> {
  const procs = [...live];
  for (const proc of procs) proc.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited.catch(() => undefined)));
}

/** A context for calling a command's `run` directly, with its output kept in `out`. */
export function commandContext(options: { config: CommandContext['config']; env?: NodeJS.ProcessEnv; signal?: AbortSignal; out?: string[] }): CommandContext {
  const out = options.out ?? [];
  return {
    log: silentLogger,
    config: options.config,
    out: (line) => out.push(line),
    stdout: new Writable({
      write(chunk, _encoding, done) {
        out.push(...String(chunk).replace(/\n$/, '').split('\n'));
        done();
      },
    }),
    signal: options.signal ?? new AbortController().signal,
    failWhen: () => {},
    beforeExitAtOnce: () => () => {},
    stderr: new PassThrough().resume(),
    stdin: Readable.from([]),
    env: options.env ?? {},
  };
}
