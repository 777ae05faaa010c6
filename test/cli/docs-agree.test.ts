// The front door must be true: README's command table names every command and exactly the flags
// its usage line shows (which are the flags it parses), README's configuration table and
// .env.example name every variable convlog reads with the default it has, and
// docs/architecture.md names every file under src/ while the docs name no file that is gone.
// Cheap checks, no database: drift here is what a day of behaviour changes left behind before.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.ts';
import type { Command } from '../../src/commands/types.ts';
import { runCli } from '../helpers/cli.ts';
import { codeSpans, markdownSection, repositoryText, tableRows } from '../helpers/docs.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = repositoryText('README.md');
const GLOBAL_FLAGS = new Set(['--help', '--verbose', '--version']);

/** `--flag` and `-f` as they appear in a usage line or a table cell. */
const flagsIn = (text: string): Set<string> =>
  new Set([...text.matchAll(/(?<![\w-])(--[a-z][a-z-]*[a-z]|-[a-z])(?![\w-])/g)].map((m) => m[1]).filter((f) => !GLOBAL_FLAGS.has(f)));

const sorted = (set: Iterable<string>) => [...set].sort();

async function commandNames(): Promise<string[]> {
  const help = await runCli(['--help']);
  const block = help.stdout.split('\ncommands:\n')[1].split('\n\n')[0];
  return block.split('\n').map((line) => line.trim().split(/\s+/)[0]);
}

/** Every exported Command of src/commands, by the name its usage starts with. */
async function commandModules(): Promise<Map<string, Command>> {
  const dir = path.join(ROOT, 'src/commands');
  const found = new Map<string, Command>();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const module = (await import(path.join(dir, file))) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      const command = value as Partial<Command>;
      if (typeof command?.usage === 'string' && typeof command.run === 'function' && command.options) {
        found.set(/^convlog ([a-z-]+)/.exec(command.usage)![1], command as Command);
      }
    }
  }
  return found;
}

/** A usage line's forms by their key: `work`, or `webhook create` and `webhook test` for a command with subcommands. */
function forms(usage: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const form of usage.split(/\|\s*(?=convlog )/)) {
    const words = form.replace(/^convlog /, '').trim().split(/\s+/);
    found.set(/^[a-z]+$/.test(words[1] ?? '') ? `${words[0]} ${words[1]}` : words[0], form);
  }
  return found;
}

describe("README's command table and the usage lines", async () => {
  const names = await commandNames();
  const usages = new Map<string, string>();
  for (const name of names) for (const [key, form] of forms((await runCli([name, '--help'])).stdout.split('\n').slice(0, -2).join('\n').replace(/^usage: /, ''))) usages.set(key, form);
  const rows = tableRows(markdownSection(README, '## Commands'));
  /** The flags of each form's row in README, and whether the row lists only some (…). */
  const documented = new Map<string, { flags: Set<string>; partial: boolean }>();
  for (const [first] of rows) {
    for (const span of codeSpans(first)) {
      const [key] = forms(`convlog ${span}`).keys();
      const entry = documented.get(key) ?? { flags: new Set<string>(), partial: false };
      for (const flag of flagsIn(span)) entry.flags.add(flag);
      entry.partial ||= span.includes('…');
      documented.set(key, entry);
    }
  }

  it('reads the commands, their forms and the table', () => {
    expect(names).toContain('enqueue');
    expect(names.length).toBeGreaterThan(10);
    expect(usages.get('webhook test')).toContain('--ticket');
    expect(documented.get('work')?.flags).toContain('--until-idle');
  });

  it('has a row for every command and form, and no row for one that does not exist', () => {
    expect(sorted([...usages.keys()].filter((key) => !documented.has(key))), 'missing from README').toEqual([]);
    expect(sorted([...documented.keys()].filter((key) => !usages.has(key))), 'rows naming no command').toEqual([]);
  });

  it('shows exactly the flags of each usage (all of them in docs/ when README shows some, …)', () => {
    const docs = fs.readdirSync(path.join(ROOT, 'docs')).map((f) => repositoryText(`docs/${f}`)).join('\n');
    const wrong: string[] = [];
    for (const [key, usage] of usages) {
      const given = flagsIn(usage);
      const row = documented.get(key);
      if (!row) continue;
      for (const flag of row.flags) if (!given.has(flag)) wrong.push(`${key}: README gives ${flag}, its usage does not`);
      for (const flag of given) if (!row.flags.has(flag) && !(row.partial && flagsIn(docs).has(flag))) wrong.push(`${key}: ${flag} of its usage missing from README`);
    }
    expect(wrong).toEqual([]);
  });

  it("purge's row says that a tombstone does not stop a sync, as docs/guarantees.md does", () => {
    const [purge] = rows.filter(([first]) => first.startsWith('`purge '));
    expect(purge?.[1]).toMatch(/tombstone does not stop a sync: a later sync, backfill, schedule or webhook of a ticket Zendesk still has stores it again/);
  });

  it('every "stopping: …" log line the docs quote is one a command logs at its first Ctrl-C', async () => {
    // docs/querying.md quoted db-server's old line after 1202c8e had changed it.
    const modules = await commandModules();
    const logged = [...modules.values()].map((command) => `stopping: ${command.stopping ?? 'finishing any work in flight'} (send again to exit at once)`);
    const docs = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).map((f) => `docs/${f}`)];
    const quoted = docs.flatMap((doc) =>
      [...repositoryText(doc).replace(/\s+/g, ' ').matchAll(/"(stopping: [^"]+)"/g)].map((m) => ({ doc, line: m[1] })),
    );
    expect(quoted.length).toBeGreaterThan(0);
    const unknown = quoted.filter(({ line }) => !logged.some((l) => l.startsWith(line.split('…')[0].trimEnd()))).map(({ doc, line }) => `${doc}: ${line}`);
    expect(unknown).toEqual([]);
  });

  it('every command parses exactly the flags its usage line shows', async () => {
    const modules = await commandModules();
    expect(sorted(modules.keys())).toEqual(sorted(names));
    for (const [name, command] of modules) {
      const parsed = new Set(Object.entries(command.options).flatMap(([key, option]) => [`--${key}`, ...(option.short ? [`-${option.short}`] : [])]));
      expect(sorted(flagsIn(command.usage)), `convlog ${name}: usage line against parseArgs options`).toEqual(sorted(parsed));
    }
  });
});

// Variables read outside src/config.ts that are not settings: Node's own, npm's (the folder
// `npm run` was started from), the system's temporary folder (set for initdb, src/db/start-cluster.ts),
// and a test-only knob.
const NOT_SETTINGS = new Set(['NODE_OPTIONS', 'INIT_CWD', 'TMPDIR', 'CONVLOG_SUPERVISE_SECONDS']);

/** Every variable convlog reads: src/config.ts's schema, and `env.NAME` anywhere in src/. */
function variablesRead(): Set<string> {
  const config = repositoryText('src/config.ts');
  const schema = config.split('const envSchema = z.object({')[1].split('\n});')[0];
  const names = new Set([...schema.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]));
  for (const file of fs.readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
    for (const m of repositoryText(`src/${file}`).matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)) if (!NOT_SETTINGS.has(m[1])) names.add(m[1]);
  }
  return names;
}

/** What each variable defaults to, as the code has it: a value, or null for one with no default. */
function codeDefaults(c: Config): Record<string, string | null> {
  return {
    DATABASE_URL: null,
    CONVLOG_DATA_DIR: path.relative(process.cwd(), c.dataDir),
    ZENDESK_SUBDOMAIN: null,
    ZENDESK_BASE_URL: null,
    ZENDESK_EMAIL: null,
    ZENDESK_API_TOKEN: null,
    ZENDESK_OAUTH_TOKEN: null,
    CONVLOG_RATE_LIMIT: String(c.rateLimit),
    CONVLOG_EXPORT_RATE_LIMIT: String(c.exportRateLimit),
    CONVLOG_ACCOUNT_RATE_LIMIT: String(c.accountRateLimit),
    CONVLOG_CONCURRENCY: String(c.concurrency),
    CONVLOG_REQUEST_TIMEOUT: String(c.zendesk!.requestTimeoutMs / 1000),
    CONVLOG_REDACT_SYSTEM_METADATA: String(c.redactSystemMetadata),
    CONVLOG_ON_DELETE: c.onDelete,
    CONVLOG_FULL_RESYNC_DAYS: String(c.fullResyncDays),
    CONVLOG_FULL_RESYNC_PERCENT: String(Math.round(c.fullResyncShare * 100)),
    LOG_LEVEL: c.logLevel,
    CONVLOG_WEBHOOK_SECRET: null,
    CONVLOG_WEBHOOK_MAX_AGE_SECONDS: String(c.serve.maxAgeSeconds),
    CONVLOG_SERVE_HOST: null,
    CONVLOG_SERVE_PORT: String(c.serve.port),
    // src/commands/work.ts: unset means no health server.
    CONVLOG_HEALTH_PORT: null,
    CONVLOG_HEALTH_HOST: null,
  };
}

describe("README's configuration table and .env.example", () => {
  const read = variablesRead();
  const defaults = codeDefaults(loadConfig({ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: 'a@example.com', ZENDESK_API_TOKEN: 'x' }));
  /** README's default cell for each variable (a row of two, `A` / `B`, splits its cell the same way). */
  const readme = new Map<string, string>();
  for (const row of tableRows(markdownSection(README, '## Configuration'))) {
    const vars = codeSpans(row[0]).filter((span) => /^[A-Z][A-Z0-9_]+$/.test(span));
    const cells = vars.length > 1 && row[0].includes(' / ') ? row.at(-1)!.split(' / ') : vars.map(() => row.at(-1)!);
    vars.forEach((name, i) => readme.set(name, cells[i].replaceAll('`', '').trim()));
  }
  const example = repositoryText('.env.example');

  it('reads the variables and the table', () => {
    expect(read).toContain('CONVLOG_HEALTH_PORT');
    expect(read).toContain('DATABASE_URL');
    expect(readme.get('CONVLOG_RATE_LIMIT')).toBe('100');
  });

  it('every variable read has a known default here, so a new one must be documented to pass', () => {
    expect(sorted([...read].filter((name) => !(name in defaults)))).toEqual([]);
  });

  it('README documents every variable read, and none that is not', () => {
    expect(sorted([...read].filter((name) => !readme.has(name))), 'missing from README').toEqual([]);
    expect(sorted([...readme.keys()].filter((name) => !read.has(name))), 'in README, read by nothing').toEqual([]);
  });

  it("README's default column is the code's default", () => {
    const wrong = Object.entries(defaults)
      .filter(([name, value]) => value !== null && readme.get(name) !== value)
      .map(([name, value]) => `${name}: README ${readme.get(name)}, code ${value}`);
    expect(wrong).toEqual([]);
  });

  it('.env.example names every variable, and a value it gives for one with a default is that default', () => {
    expect(sorted([...read].filter((name) => !new RegExp(`^#? ?${name}=`, 'm').test(example))), 'missing from .env.example').toEqual([]);
    const wrong = Object.entries(defaults).flatMap(([name, value]) => {
      const given = new RegExp(`^#? ?${name}=(.*)$`, 'm').exec(example)?.[1].trim();
      return value !== null && given && given !== value ? [`${name}: .env.example ${given}, code ${value}`] : [];
    });
    expect(wrong).toEqual([]);
  });
});

describe('the source files the docs name', () => {
  const sources = fs
    .readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `src/${f.split(path.sep).join('/')}`);
  const docs = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).map((f) => `docs/${f}`)];

  it('docs/architecture.md names every file under src/', () => {
    const architecture = repositoryText('docs/architecture.md');
    expect(sources.length).toBeGreaterThan(50);
    expect(sources.filter((file) => !architecture.includes(`\`${file}\``))).toEqual([]);
  });

  it('every src/ path in README.md and docs/ exists', () => {
    const gone = docs.flatMap((doc) =>
      [...repositoryText(doc).matchAll(/\bsrc\/[\w./-]*\w/g)]
        .map((m) => m[0])
        .filter((p) => !p.includes('*') && !fs.existsSync(path.join(ROOT, p)))
        .map((p) => `${doc}: ${p}`),
    );
    expect(gone).toEqual([]);
  });
});
