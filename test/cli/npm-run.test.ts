// convlog as `npm run` starts it: the scripts' command lines as package.json gives them, run by a
// shell from the repository root with node_modules/.bin first on PATH, as npm runs them.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cleanEnv, runBash } from '../helpers/cli.ts';
import pkg from '../../package.json' with { type: 'json' };

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `npm run <script> -- ARGS`: the script's line and ARGS in a shell, with what npm adds to the environment. */
function npmRun(script: keyof typeof pkg.scripts, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const line = `${pkg.scripts[script]} ${args.map((a) => `'${a}'`).join(' ')}`;
  return runBash(line, {
    cwd: ROOT,
    env: { ...cleanEnv(), PATH: `${path.join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`, npm_lifecycle_event: script, npm_lifecycle_script: pkg.scripts[script], INIT_CWD: ROOT, ...env },
  });
}

describe('npm run convlog', { timeout: 30_000 }, () => {
  it('runs the program: `npm run convlog -- status --help` prints the usage of status', async () => {
    const result = await npmRun('convlog', ['status', '--help']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: convlog status/);
  });
});

describe('a flag npm took for its own (no -- before it)', { timeout: 30_000 }, () => {
  it('`npm run demo --tickets 50`: the unexpected "50" gets the line with the -- it needed', async () => {
    // npm keeps --tickets as its setting npm_config_tickets and hands convlog the "50" alone.
    const result = await npmRun('demo', ['50'], { npm_config_tickets: 'true' });
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(
      "convlog demo: Unexpected argument '50': demo takes no arguments besides its options (through npm run, put -- before convlog's options: npm run demo -- --tickets 50)",
    );
  });

  it('`npm run convlog work --concurrency 4`: the example names the command, which that script does not', async () => {
    const result = await npmRun('convlog', ['work', '4'], { npm_config_concurrency: 'true' });
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(
      "convlog work: Unexpected argument '4': work takes no arguments besides its options (through npm run, put -- before convlog's options: npm run convlog -- work --concurrency 4)",
    );
  });

  it('`npm run demo --concurrency=2`: npm passes nothing at all, and the demo says so rather than run without it', async () => {
    const result = await npmRun('demo', [], { npm_config_concurrency: '2' });
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(
      "convlog demo: npm took --concurrency as its own setting and passed convlog nothing: put -- before convlog's options, as in npm run demo -- --concurrency 2",
    );
  });

  it('`npm run convlog demo --tickets=5`: the example names the command, which that script does not', async () => {
    const result = await npmRun('convlog', ['demo'], { npm_config_tickets: '5' });
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(
      "convlog demo: npm took --tickets as its own setting and passed convlog nothing: put -- before convlog's options, as in npm run convlog -- demo --tickets 5",
    );
  });

  it('no hint when no flag of the command was taken by npm', async () => {
    const result = await npmRun('demo', ['50']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe("convlog demo: Unexpected argument '50': demo takes no arguments besides its options");
  });
});
