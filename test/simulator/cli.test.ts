import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../src/simulator/index.ts';
import { killAll, runCli, startConvlog, type Convlog } from '../helpers/cli.ts';

afterAll(killAll);

const kebab = (key: string) => key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

describe('convlog simulator', () => {
  it('--help lists a flag for every simulator option', async () => {
    const result = await runCli(['simulator', '--help']);
    expect(result.code).toBe(0);
    for (const option of Object.keys(DEFAULT_OPTIONS)) expect(result.stdout).toMatch(new RegExp(`^  --${kebab(option)} `, 'm'));
  });

  it('no tickets, a number not in digits, an empty token or a host it cannot listen on: one line and the usage line, exit 2', async () => {
    const cases = [
      [['--tickets', '0'], '--tickets must be at least 1'],
      [['--tickets', '1e3'], '--tickets must be a whole number in digits (got "1e3")'],
      // Each problem named by its flag, not by the option it sets.
      [['--account-rate-limit', 'x', '--history-end', 'yesterday'], '--account-rate-limit must be a number (got "x"); --history-end must be an ISO date or time (2026-12-01, 2026-12-01T08:00:00Z; UTC unless it names an offset) or now (got "yesterday")'],
      [['--api-token', ''], '--api-token needs a value (TOKEN); leave the flag out for its default'],
      [['--host', '999.1.1.1'], 'cannot listen on --host "999.1.1.1": the host name does not resolve; give an address of this machine, such as 127.0.0.1'],
    ] as const;
    const results = await Promise.all(cases.map(([args]) => runCli(['simulator', '--port', '0', ...args], { timeoutMs: 20_000 })));
    results.forEach((result, i) => {
      expect(result.code, result.stderr).toBe(2);
      const [first, ...rest] = result.stderr.trimEnd().split('\n');
      expect(first).toBe(`convlog simulator: ${cases[i][1]}`);
      expect(rest.length, result.stderr).toBeLessThanOrEqual(1);
      expect(result.stderr).not.toContain('unexpected error');
    });
  });

  it('a bad flag value is one line naming the option, exit 2', async () => {
    const result = await runCli(['simulator', '--account-rate-limit', 'lots', '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('convlog simulator: --account-rate-limit must be a number (got "lots")');
  });

  it('refuses an --api-token that convlog would refuse (not one word of visible ASCII), in one line', async () => {
    const result = await runCli(['simulator', '--port', '0', '--api-token', 'two words']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('convlog simulator: --api-token has a space at character 4: a token is one word of letters, digits and ASCII marks (paste it again)');
  });

  it('with --api-token, the lines it prints to paste carry that token, and the simulator lets them in', { timeout: 30_000 }, async () => {
    // A token with a quote and a shell's marks: the printed lines must still be one shell word each.
    const token = "it's-$good";
    const sim = startConvlog(['simulator', '--port', '0', '--api-token', token]);
    const out = await printed(sim, 'npx convlog sync');
    // What a shell makes of the printed words, as a person pasting them gets it.
    const words = (text: string) => execFileSync('bash', ['-c', `printf '%s\\n' ${text}`], { encoding: 'utf8' }).split('\n').slice(0, -1);
    const [curlUser, url] = words(/^try: curl -g -u (.+)$/m.exec(out)![1]);
    expect(curlUser).toBe(`agent@example.com/token:${token}`);
    const env = Object.fromEntries(words(/: (CONVLOG_DATA_DIR=.+) npx convlog sync/.exec(out)![1]).map((word) => word.split(/=(.*)/s).slice(0, 2)));
    expect(env.ZENDESK_API_TOKEN).toBe(token);
    // A folder of its port's: another simulator is another account.
    expect(env.CONVLOG_DATA_DIR).toBe(`.convlog/simulator-${new URL(url).port}`);
    for (const user of [curlUser, `${env.ZENDESK_EMAIL}/token:${env.ZENDESK_API_TOKEN}`]) {
      const response = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(user).toString('base64')}` } });
      expect(response.status, user).toBe(200);
    }
    expect((await fetch(url, { headers: { authorization: `Basic ${Buffer.from('agent@example.com/token:anything').toString('base64')}` } })).status).toBe(401);
    sim.kill('SIGINT');
    expect((await sim.exited).code, sim.stderr()).toBe(0);
  });

  it('Ctrl-C says it closes the simulator (it has no work to finish) and exits 0', { timeout: 30_000 }, async () => {
    const sim = startConvlog(['simulator', '--port', '0'], { env: { LOG_LEVEL: 'info' } });
    for (let i = 0; i < 200 && !sim.stdout().includes('Zendesk simulator on'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(sim.stdout()).toContain('Zendesk simulator on');
    sim.kill('SIGINT');
    expect((await sim.exited).code, sim.stderr()).toBe(0);
    expect(sim.stderr()).toContain('"msg":"stopping: closing the simulator, cutting the requests it is answering (send again to exit at once)"');
    expect(sim.stderr()).not.toContain('work in flight');
  });
});

/** The simulator's output once a line containing `last` is printed. */
async function printed(sim: Convlog, last: string): Promise<string> {
  for (let i = 0; i < 400 && !sim.stdout().includes(last); i++) await new Promise((r) => setTimeout(r, 50));
  expect(sim.stdout(), sim.stderr()).toContain(last);
  return sim.stdout();
}
