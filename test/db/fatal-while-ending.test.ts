// pg-boss ends its LISTEN connection by taking every listener off it and then calling end(): a
// FATAL its server sent meanwhile (a restart, an embedded server killed under `work`) was emitted
// as an unheard 'error' and ended the process with a stack trace (test/cli/embedded-handoff.test.ts
// failed so, now and then). hushEndingClients (src/db/pg-client.ts) gives a client being ended a
// listener that drops what it reports.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, inject, it } from 'vitest';

const SCRIPT = path.join(import.meta.dirname, '../helpers/fatal-while-ending.ts');

function run(mode: 'plain' | 'hushed') {
  return spawnSync(process.execPath, [SCRIPT, inject('pgAdminUrl'), mode], { encoding: 'utf8', timeout: 60_000 });
}

it('a client ended with no listener left, its server\'s FATAL still unread, ends quietly once hushed', () => {
  const plain = run('plain');
  // The reproduction holds: without the hush the process dies of the unheard 'error'.
  expect(plain.status, plain.stderr).not.toBe(0);
  expect(plain.stderr).toMatch(/Unhandled 'error' event[\s\S]*terminating connection due to administrator command/);

  const hushed = run('hushed');
  expect(hushed.stderr).toBe('');
  expect(hushed.stdout).toBe('ended quietly\n');
  expect(hushed.status).toBe(0);
});
