import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../src/simulator/index.ts';
import { runCli } from '../helpers/cli.ts';

const kebab = (key: string) => key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

describe('convlog simulator', () => {
  it('--help lists a flag for every simulator option', async () => {
    const result = await runCli(['simulator', '--help']);
    expect(result.code).toBe(0);
    for (const option of Object.keys(DEFAULT_OPTIONS)) expect(result.stdout).toMatch(new RegExp(`^  --${kebab(option)} `, 'm'));
  });

  it('a bad flag value is one line naming the option, exit 2', async () => {
    const result = await runCli(['simulator', '--account-rate-limit', 'lots', '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('convlog simulator: Invalid simulator options: accountRateLimit must be a number (got "lots")');
  });
});
