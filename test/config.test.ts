import fs from 'node:fs';
import dotenv from 'dotenv';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { ConfigError } from '../src/errors/convlog-errors.ts';

const account = { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: 'a@example.com', ZENDESK_API_TOKEN: 'tok-123' };

function problems(env: NodeJS.ProcessEnv, needZendesk = false): string {
  try {
    loadConfig(env, { needZendesk });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined,
      rateLimit: 100,
      exportRateLimit: 10,
      concurrency: 4,
      logLevel: 'info',
      redactSystemMetadata: false,
      zendesk: undefined,
    });
    expect(config.dataDir).toMatch(/\.convlog$/);
  });

  it('builds the account from a subdomain and API token', () => {
    const config = loadConfig(account);
    expect(config.zendesk).toEqual({
      baseUrl: 'https://acme.zendesk.com',
      auth: { kind: 'token', email: 'a@example.com', token: 'tok-123' },
      requestTimeoutMs: 30_000,
    });
  });

  it('prefers ZENDESK_BASE_URL and an OAuth token', () => {
    const config = loadConfig({ ...account, ZENDESK_BASE_URL: 'http://127.0.0.1:4010/', ZENDESK_OAUTH_TOKEN: 'oauth' });
    expect(config.zendesk?.baseUrl).toBe('http://127.0.0.1:4010');
    expect(config.zendesk?.auth).toEqual({ kind: 'oauth', token: 'oauth' });
  });

  it('reports every problem in one message', () => {
    const message = problems(
      { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: 'a@example.com', CONVLOG_RATE_LIMIT: 'abc', LOG_LEVEL: 'loud', CONVLOG_CONCURRENCY: '0' },
      true,
    );
    expect(message).toContain('ZENDESK_API_TOKEN is missing');
    expect(message).toContain('CONVLOG_RATE_LIMIT must be a positive integer, got "abc"');
    expect(message).toContain('CONVLOG_CONCURRENCY must be a positive integer, got "0"');
    expect(message).toContain('LOG_LEVEL must be one of');
    expect(message.split('\n')).toHaveLength(1);
  });

  it('rejects malformed URLs, subdomains and booleans', () => {
    const message = problems({
      DATABASE_URL: 'mysql://x',
      ZENDESK_BASE_URL: 'acme.zendesk.com',
      ZENDESK_SUBDOMAIN: 'https://acme.zendesk.com',
      CONVLOG_REDACT_SYSTEM_METADATA: 'maybe',
    });
    expect(message).toMatch(/DATABASE_URL must be a postgres:\/\/ URL/);
    expect(message).toMatch(/ZENDESK_BASE_URL must be an http\(s\) URL/);
    expect(message).toMatch(/ZENDESK_SUBDOMAIN must be the account name only: ZENDESK_SUBDOMAIN=acme, got "https:\/\/acme.zendesk.com"/);
    expect(message).toMatch(/CONVLOG_REDACT_SYSTEM_METADATA must be true or false, got "maybe"/);
    // Any other bad value is quoted too, with what the name may hold.
    expect(problems({ ZENDESK_SUBDOMAIN: 'ac me' })).toMatch(/ZENDESK_SUBDOMAIN must be the account name only \(letters, digits and dashes\), such as "acme" for https:\/\/acme.zendesk.com, got "ac me"/);
  });

  it('takes an account name given as ZENDESK_BASE_URL for what it is: ZENDESK_SUBDOMAIN is suggested', () => {
    const { ZENDESK_SUBDOMAIN: _, ...credentials } = account;
    expect(problems({ ...credentials, ZENDESK_BASE_URL: 'mycorp' }, true)).toBe(
      'ZENDESK_BASE_URL must be an http(s) URL such as https://mycorp.zendesk.com: for the account name alone, set ZENDESK_SUBDOMAIN=mycorp instead (see .env.example)',
    );
    expect(problems({ ...credentials, ZENDESK_BASE_URL: 'mycorp.zendesk.com' })).toMatch(/^ZENDESK_BASE_URL must be an http\(s\) URL such as https:\/\/mycorp\.zendesk\.com: for the account name alone, set ZENDESK_SUBDOMAIN=mycorp instead/);
    // Anything else is no account name: the plain message, which quotes nothing (a URL may hold a password).
    const plain = 'ZENDESK_BASE_URL must be an http(s) URL such as https://acme.zendesk.com; for an account name use ZENDESK_SUBDOMAIN (see .env.example)';
    expect(problems({ ...credentials, ZENDESK_BASE_URL: 'user:secret@mycorp' })).toBe(plain);
  });

  it('refuses a ZENDESK_BASE_URL with /api/ in its path, or a zendesk.com one with any path, and takes a proxy\'s path', () => {
    const { ZENDESK_SUBDOMAIN: _, ...credentials } = account;
    const noApi = "ZENDESK_BASE_URL must not have /api/ in its path: give the account's root URL (https://acme.zendesk.com), or a proxy's, and convlog adds /api/v2/ to each request (see .env.example)";
    for (const url of ['http://127.0.0.1:4010/api/v2', 'https://proxy.example.com/zendesk/api/v2/', 'https://proxy.example.com/API']) {
      expect(problems({ ...credentials, ZENDESK_BASE_URL: url }), url).toBe(noApi);
    }
    expect(problems({ ...credentials, ZENDESK_BASE_URL: 'https://acme.zendesk.com/api/v2/tickets.json' })).toBe(
      "ZENDESK_BASE_URL must be the account's root URL, https://acme.zendesk.com, without /api/v2 (convlog adds it to each request) (see .env.example)",
    );
    const withPath = problems({ ...credentials, ZENDESK_BASE_URL: 'https://ACME.zendesk.com/agent/tickets/secret-path' });
    expect(withPath).toBe("ZENDESK_BASE_URL must be the account's root URL, https://acme.zendesk.com, without a path: Zendesk's API is at the root of its host (see .env.example)");
    expect(problems({ ...credentials, ZENDESK_BASE_URL: 'https://proxy.example.com/secret-path/api' })).not.toContain('secret-path');
    for (const url of ['https://acme.zendesk.com/', 'https://proxy.example.com/zendesk/', 'https://proxy.example.com/zendesk-api', 'http://127.0.0.1:4010']) {
      expect(loadConfig({ ...credentials, ZENDESK_BASE_URL: url }).zendesk?.baseUrl, url).toBe(url.replace(/\/$/, ''));
    }
  });

  it('never prints back a ZENDESK_BASE_URL shaped like a token: an API token pasted on the wrong line', () => {
    const { ZENDESK_SUBDOMAIN: _, ...credentials } = account;
    const plain = 'ZENDESK_BASE_URL must be an http(s) URL such as https://acme.zendesk.com; for an account name use ZENDESK_SUBDOMAIN (see .env.example)';
    // A 40-character API token, an OAuth token (64 hex digits), and mixed case that is short.
    for (const token of ['Xq7pL2mN9vR4tY8wK1zA6bC3dE5fG0hJ2kM4nP6r', 'a3f9'.repeat(16), 'Xq7pL2mN9vR4']) {
      const message = problems({ ...credentials, ZENDESK_BASE_URL: token }, true);
      expect(message).toBe(plain);
      expect(message).not.toContain(token.slice(0, 4));
    }
    // An account name still gets its suggestion.
    expect(problems({ ...credentials, ZENDESK_BASE_URL: 'acme' }, true)).toBe(
      'ZENDESK_BASE_URL must be an http(s) URL such as https://acme.zendesk.com: for the account name alone, set ZENDESK_SUBDOMAIN=acme instead (see .env.example)',
    );
  });

  it('refuses an email with the "/token" of the API\'s user name, or one that is no address, without printing it', () => {
    expect(problems({ ...account, ZENDESK_EMAIL: 'agent@example.com/token' })).toBe(
      'ZENDESK_EMAIL must be the agent\'s email address alone, without "/token" (convlog adds it) (see .env.example)',
    );
    const pasted = problems({ ...account, ZENDESK_EMAIL: 'Xk29fJq0secretTokenValue' });
    expect(pasted).toBe('ZENDESK_EMAIL must be the email address of the agent whose API token ZENDESK_API_TOKEN is, such as agent@example.com (see .env.example)');
    expect(pasted).not.toContain('Xk29');
    expect(loadConfig({ ...account, ZENDESK_EMAIL: ' Agent.Name+zd@Example.co.uk ' }).zendesk?.auth).toMatchObject({ email: 'Agent.Name+zd@Example.co.uk' });
  });

  it('refuses an OAuth token with the "Bearer " of its header, without printing it', () => {
    const message = problems({ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_OAUTH_TOKEN: 'Bearer 0a1b2c3d4e5f' });
    expect(message).toBe('ZENDESK_OAUTH_TOKEN must be the access token alone, without "Bearer " (convlog adds it) (see .env.example)');
    expect(loadConfig({ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_OAUTH_TOKEN: 'bearer-like-but-no-space' }).zendesk?.auth).toEqual({ kind: 'oauth', token: 'bearer-like-but-no-space' });
  });

  it('refuses a token that is not one word of visible ASCII, in one line, saying where and never quoting it', () => {
    const cases: Array<[NodeJS.ProcessEnv, string, string]> = [
      [{ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_OAUTH_TOKEN: 'abc\ndefSECRET' }, 'ZENDESK_OAUTH_TOKEN', 'a line break at character 4'],
      [{ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_OAUTH_TOKEN: 'abc defSECRET' }, 'ZENDESK_OAUTH_TOKEN', 'a space at character 4'],
      [{ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_OAUTH_TOKEN: 'abc\u0001defSECRET' }, 'ZENDESK_OAUTH_TOKEN', 'a control character at character 4'],
      [{ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_OAUTH_TOKEN: 'abc\u2019defSECRET' }, 'ZENDESK_OAUTH_TOKEN', 'a character that is not ASCII at character 4'],
      [{ ...account, ZENDESK_API_TOKEN: 'abc\r\ndefSECRET' }, 'ZENDESK_API_TOKEN', 'a line break at character 4'],
    ];
    for (const [env, name, what] of cases) {
      const message = problems(env);
      expect(message).toBe(`${name} has ${what}: a token is one word of letters, digits and ASCII marks (paste it again) (see .env.example)`);
      expect(message).not.toContain('SECRET');
    }
    // Surrounding white space is trimmed, as for every variable; the marks of real tokens pass.
    expect(loadConfig({ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_OAUTH_TOKEN: ' a1-B2._~+/= \n' }).zendesk?.auth).toEqual({ kind: 'oauth', token: 'a1-B2._~+/=' });
  });

  it('refuses a subdomain longer than a host name label (63 characters), in one line', () => {
    expect(loadConfig({ ...account, ZENDESK_SUBDOMAIN: 'a'.repeat(63) }).zendesk?.baseUrl).toBe(`https://${'a'.repeat(63)}.zendesk.com`);
    const message = problems({ ...account, ZENDESK_SUBDOMAIN: 'a'.repeat(64) });
    expect(message).toMatch(/ZENDESK_SUBDOMAIN has 64 characters: a subdomain has at most 63, got "a{40}…"/);
    expect(message.split('\n')).toHaveLength(1);
  });

  it('refuses a subdomain ending with a hyphen, which no host name does', () => {
    expect(loadConfig({ ...account, ZENDESK_SUBDOMAIN: 'acme-support' }).zendesk?.baseUrl).toBe('https://acme-support.zendesk.com');
    expect(problems({ ...account, ZENDESK_SUBDOMAIN: 'acme-' })).toMatch(/^ZENDESK_SUBDOMAIN must not end with "-", got "acme-"/);
  });

  it('needs no account unless the command calls Zendesk', () => {
    const config = loadConfig({});
    expect(config.zendesk).toBeUndefined();
    expect(config.zendeskProblems.join('; ')).toMatch(/credentials are missing/);
    expect(problems({}, true)).toMatch(/ZENDESK_SUBDOMAIN is missing.*credentials are missing/);
    expect(problems({ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_API_TOKEN: 'x' }, true)).toContain('ZENDESK_EMAIL is missing');
  });

  it('says a variable set to nothing is empty, not missing: .env.example copied leaves the account and its credentials empty', () => {
    const copied = dotenv.parse(fs.readFileSync(new URL('../.env.example', import.meta.url)));
    // No placeholder account: with "acme" and agent@example.com filled in, a person who set only
    // the token sent it to acme.zendesk.com.
    expect([copied.ZENDESK_SUBDOMAIN, copied.ZENDESK_EMAIL, copied.ZENDESK_API_TOKEN]).toEqual(['', '', '']);
    expect(problems(copied, true)).toBe(
      'ZENDESK_SUBDOMAIN is empty (or set ZENDESK_BASE_URL); credentials are missing: set ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN (ZENDESK_EMAIL and ZENDESK_API_TOKEN are empty) (see .env.example)',
    );
    // Beside a bad value too, and for each variable that is asked for.
    expect(problems({ ...account, ZENDESK_API_TOKEN: '', CONVLOG_RATE_LIMIT: 'abc' }, true)).toMatch(/^ZENDESK_API_TOKEN is empty; CONVLOG_RATE_LIMIT must be/);
    expect(problems({ ...account, ZENDESK_SUBDOMAIN: ' ' }, true)).toBe('ZENDESK_SUBDOMAIN is empty (or set ZENDESK_BASE_URL) (see .env.example)');
    expect(problems({ ...account, ZENDESK_EMAIL: '' }, true)).toBe('ZENDESK_EMAIL is empty (see .env.example)');
    expect(problems({ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: '', ZENDESK_API_TOKEN: '' }, true)).toBe(
      'credentials are missing: set ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN (ZENDESK_EMAIL and ZENDESK_API_TOKEN are empty) (see .env.example)',
    );
    // Not set at all: missing, as before.
    expect(problems({ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: 'a@example.com' }, true)).toBe('ZENDESK_API_TOKEN is missing (see .env.example)');
  });

  it('asks node-postgres for verify-full by name where it would treat the sslmode as verify-full and warn', () => {
    const url = (query: string) => loadConfig({ DATABASE_URL: `postgres://u:p%23w@db.example.com:5432/convlog${query}` }).databaseUrl;
    for (const mode of ['require', 'prefer', 'verify-ca']) {
      expect(url(`?sslmode=${mode}&application_name=x`)).toBe('postgres://u:p%23w@db.example.com:5432/convlog?sslmode=verify-full&application_name=x');
    }
    // libpq's semantics asked for, and the modes pg takes as they are: left alone.
    for (const query of ['?sslmode=require&uselibpqcompat=true', '?sslmode=verify-full', '?sslmode=disable', '?sslmode=no-verify', '']) {
      expect(url(query)).toBe(`postgres://u:p%23w@db.example.com:5432/convlog${query}`);
    }
  });

  it('states a range once in its message', () => {
    expect(problems({ CONVLOG_FULL_RESYNC_PERCENT: '101' })).toBe('CONVLOG_FULL_RESYNC_PERCENT must be a percentage from 0 to 100, got "101" (see .env.example)');
  });

  it('never puts a secret value into its messages', () => {
    const message = problems({ ...account, ZENDESK_API_TOKEN: 'super-secret-token', CONVLOG_RATE_LIMIT: '-1' }, true);
    expect(message).not.toContain('super-secret-token');
  });
});
