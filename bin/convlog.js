#!/usr/bin/env node
// npm and npx put node_modules/.bin first on PATH, so this runs on the Node 24 the
// repository brings; Node 24 runs the TypeScript sources directly.
import { fileURLToPath } from 'node:url';

const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  // Paths from this file, not $PWD: the command may have been run from anywhere.
  const clone = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
  console.error(
    `convlog: needs Node 24 or newer (this is ${process.version}); after "npm ci" the clone has one: ` +
      `${clone}/node_modules/.bin/node ${clone}/bin/convlog.js COMMAND, from any folder (a service is started so, since npx forwards no signal), or npx convlog COMMAND inside the clone`,
  );
  process.exit(2);
}
// V8 sizes its heap for the machine: on a large one, a worker's young generation alone grows
// to 128 MB and its old one is collected late, so resident memory would reach hundreds of MB
// of garbage. Commands that sync run with a 16 MB semi-space and a 512 MB old-space limit,
// which keep a worker near 150-200 MB whatever the ticket sizes (memory stays flat anyway: at
// most three pages per ticket, one arriving, one being mapped, one being written). The process
// replaces itself (same pid), and flags given by the user (NODE_OPTIONS or the command line) win.
// `serve` holds no pages, only requests a few KB each: a 4 MB semi-space keeps a burst of
// webhooks from growing its young generation, and with it the process, past 150 MB.
const HEAP_FLAGS = {
  work: ['--max-semi-space-size=16', '--max-old-space-size=512'],
  sync: ['--max-semi-space-size=16', '--max-old-space-size=512'],
  demo: ['--max-semi-space-size=16', '--max-old-space-size=512'],
  serve: ['--max-semi-space-size=4', '--max-old-space-size=256'],
};
const flags = Object.hasOwn(HEAP_FLAGS, process.argv[2]) ? HEAP_FLAGS[process.argv[2]] : undefined;
const given = `${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`;
if (flags && typeof process.execve === 'function' && !/--max-(semi|old)-space-size/.test(given)) {
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...flags, ...process.argv.slice(1)], process.env);
}

// Loading a command takes a second or so before src/cli.ts puts its own SIGINT/SIGTERM handlers
// in place, and a signal then ended the process without a word. From here on one is kept (the
// loading does not even give it a turn before it is done); src/cli.ts then stops the command
// before it starts, with one line, and the process ends below as that signal would have ended it
// (exit status 130 or 143 in a shell; a clean stop for systemd). A signal during Node's own start,
// before this line runs (twice with the re-exec above), still ends it at once.
// A terminal that closes sends SIGHUP: it stops a command attached to one as SIGTERM does, so
// that its embedded Postgres (in a process group of its own) is stopped too, not left running.
// Not otherwise: under nohup (which detaches every stream from the terminal) SIGHUP is ignored,
// and a handler would override that.
const attached = [process.stdin, process.stdout, process.stderr].some((stream) => stream.isTTY);
const program = {
  signal: undefined,
  stoppedBeforeStart: false,
  signals: attached ? ['SIGINT', 'SIGTERM', 'SIGHUP'] : ['SIGINT', 'SIGTERM'],
  releaseEarlySignals() {
    for (const signal of program.signals) process.off(signal, keepEarlySignal);
  },
};
function keepEarlySignal(signal) {
  program.signal ??= signal;
}
for (const signal of program.signals) process.on(signal, keepEarlySignal);

// A reader that stops early (`convlog status | head -1`) closes the pipe; like any Unix tool,
// convlog then has nothing left to say and must not die of an EPIPE stack. Later writes are
// dropped, and the command still finishes and closes what it opened.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    // EIO: the terminal closed (its SIGHUP is on its way, and stops the command gracefully).
    if (error.code !== 'EPIPE' && error.code !== 'EIO') throw error;
  });
}

// drizzle-orm's ES module build (hundreds of files joined by `export *`) takes Node 24 about
// 270 MB of heap to link, a peak every worker would carry; its CommonJS build is the same code
// and loads in a few MB. Every import of drizzle-orm in this process gets the CommonJS build.
const { enableCompileCache, registerHooks } = await import('node:module');
// Node keeps what it compiled (the TypeScript with its types stripped, and V8's code) in a cache,
// so a command after the first starts in about two thirds of the time (0.65 s against 0.95 s for
// `convlog --version` on a 2-core machine). Not in Node's default place, the shared temporary
// folder: another local user can create this user's cache folder there first and fill it with
// code of their own (entries are checked by a checksum only), which convlog would then run. The
// user's own cache folder instead (XDG_CACHE_HOME, else ~/.cache), or NODE_COMPILE_CACHE when set.
// NODE_DISABLE_COMPILE_CACHE=1 turns it off; a folder it cannot write only means no cache.
const { homedir } = await import('node:os');
const { join } = await import('node:path');
const compileCache = () => {
  if (process.env.NODE_COMPILE_CACHE) return process.env.NODE_COMPILE_CACHE;
  try {
    return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'convlog', 'compile-cache');
  } catch {
    // No HOME and a uid without a passwd entry (a container run with an arbitrary uid): no cache.
    return undefined;
  }
};
const cacheFolder = compileCache();
if (cacheFolder) enableCompileCache(cacheFolder);
registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier !== 'drizzle-orm' && !specifier.startsWith('drizzle-orm/')) return nextResolve(specifier, context);
    return nextResolve(specifier, { ...context, conditions: ['require', 'node', 'default'] });
  },
});
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2), undefined, program);
program.releaseEarlySignals();
if (program.stoppedBeforeStart) process.kill(process.pid, program.signal);
// Everything is closed by now; a library timer or socket left behind must not keep a finished
// command alive (the timer is unref'd, so a clean exit does not wait for it).
setTimeout(() => process.exit(), 2_000).unref();
