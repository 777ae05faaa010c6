// From a folder below a clone's root (`cd docs && npx convlog status`), convlog read no .env and
// opened a new, empty embedded database in docs/.convlog. It now walks up to the clone's root (a
// package.json named convlog) and reads .env and puts the default data folder there, a relative
// CONVLOG_DATA_DIR too. But a working directory that holds its own .env or .convlog keeps them, as
// it always did: a package.json that only depends on convlog (a home folder after
// `npm install convlog`, a monorepo's root) must not take a user's settings and data elsewhere.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { projectFolder } from '../../src/config.ts';
import { createEmptyDatabase } from '../helpers/database.ts';
import { runProgram } from '../helpers/cli.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-project-folder-'));
const docs = path.join(root, 'docs');
const deep = path.join(docs, 'guide');
fs.mkdirSync(deep, { recursive: true });
fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'convlog', version: '1.0.0' }));

let db: { url: string; drop(): Promise<void> };
let other: { url: string; drop(): Promise<void> };
beforeAll(async () => {
  db = await createEmptyDatabase();
  other = await createEmptyDatabase();
});
afterAll(async () => {
  await db?.drop();
  await other?.drop();
  fs.rmSync(root, { recursive: true, force: true });
});

/** A temporary tree of files (path → content), folders made as needed. */
function tree(files: Record<string, string>): string {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-project-tree-'));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(top, name)), { recursive: true });
    fs.writeFileSync(path.join(top, name), content);
  }
  return top;
}

it("is the nearest folder above that is a clone of convlog, passing other packages by, unless the folder holds its own .env or .convlog", () => {
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-project-none-'));
  try {
    expect(projectFolder(deep)).toBe(root);
    expect(projectFolder(root)).toBe(root);
    // A workspace of another name, and a package.json that is not JSON, are not the clone.
    fs.writeFileSync(path.join(docs, 'package.json'), JSON.stringify({ name: 'docs-site', devDependencies: { vitepress: '1' } }));
    fs.writeFileSync(path.join(deep, 'package.json'), '{ not json');
    expect(projectFolder(deep)).toBe(root);
    // Nor is one that depends on convlog.
    fs.writeFileSync(path.join(docs, 'package.json'), JSON.stringify({ name: 'support-data', dependencies: { convlog: '1' } }));
    expect(projectFolder(deep)).toBe(root);
    // The working directory's own .env, or .convlog folder, keeps it where it is; a .convlog file does not.
    fs.writeFileSync(path.join(deep, '.convlog'), '');
    expect(projectFolder(deep)).toBe(root);
    fs.rmSync(path.join(deep, '.convlog'));
    fs.mkdirSync(path.join(deep, '.convlog'));
    expect(projectFolder(deep)).toBe(deep);
    fs.rmSync(path.join(deep, '.convlog'), { recursive: true });
    fs.writeFileSync(path.join(deep, '.env'), '');
    expect(projectFolder(deep)).toBe(deep);
    fs.rmSync(path.join(deep, '.env'));
    // None at all: the folder itself, as before.
    expect(projectFolder(elsewhere)).toBe(elsewhere);
  } finally {
    fs.rmSync(path.join(docs, 'package.json'), { force: true });
    fs.rmSync(path.join(deep, 'package.json'), { force: true });
    fs.rmSync(elsewhere, { recursive: true, force: true });
  }
});

it("run from a folder below a clone's root, a command reads the root's .env", { timeout: 60_000 }, async () => {
  const name = new URL(db.url).pathname.slice(1);
  fs.writeFileSync(path.join(root, '.env'), `DATABASE_URL=${db.url}\n`);
  try {
    const result = await runProgram(['status', '--json'], { cwd: deep });
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { database: string }).database).toContain(name);
  } finally {
    fs.rmSync(path.join(root, '.env'));
  }
  expect(fs.readdirSync(deep), 'nothing made below the root').toEqual([]);
});

it("the default data folder, and a relative CONVLOG_DATA_DIR from .env, are at the clone's root", { timeout: 60_000 }, async () => {
  // A file where the folder should be: refused at once, naming the path convlog chose, with no
  // Postgres started.
  fs.writeFileSync(path.join(root, '.convlog'), '');
  fs.writeFileSync(path.join(root, 'data'), '');
  try {
    const byDefault = await runProgram(['migrate'], { cwd: docs });
    expect(byDefault.code).toBe(2);
    expect(byDefault.stderr).toBe(`convlog migrate: CONVLOG_DATA_DIR (${path.join(root, '.convlog')}) cannot be used: it is a file, not a folder\n`);

    fs.writeFileSync(path.join(root, '.env'), 'CONVLOG_DATA_DIR=data\n');
    const relative = await runProgram(['migrate'], { cwd: deep });
    expect(relative.code).toBe(2);
    expect(relative.stderr).toBe(`convlog migrate: CONVLOG_DATA_DIR (${path.join(root, 'data')}) cannot be used: it is a file, not a folder\n`);
  } finally {
    for (const file of ['.convlog', 'data', '.env']) fs.rmSync(path.join(root, file), { recursive: true, force: true });
  }
  expect(fs.readdirSync(docs), 'no database made beside docs/').toEqual(['guide']);
});

/**
 * Which .env a command run in `cwd` read: the database `status --json` names, and where `migrate`
 * puts the embedded Postgres when DATABASE_URL is blanked in the real environment (which wins over
 * .env), refused at once because `data` there is a file.
 */
async function settingsReadIn(cwd: string): Promise<{ database: string; dataDirRefusal: string }> {
  const status = await runProgram(['status', '--json'], { cwd });
  expect(status.code, status.stderr).toBe(0);
  const migrate = await runProgram(['migrate'], { cwd, env: { DATABASE_URL: '' } });
  expect(migrate.code, migrate.stderr).toBe(2);
  return { database: (JSON.parse(status.stdout) as { database: string }).database, dataDirRefusal: migrate.stderr };
}

/** The working directory's own settings: its database, and a data folder `data` that is a file. */
const localEnv = () => `ZENDESK_SUBDOMAIN=acme\nCONVLOG_DATA_DIR=data\nDATABASE_URL=${db.url}\n`;
const refusedAt = (folder: string) => `convlog migrate: CONVLOG_DATA_DIR (${path.join(folder, 'data')}) cannot be used: it is a file, not a folder\n`;

it("a home folder whose package.json lists convlog does not take over a folder below it that has its own .env", { timeout: 60_000 }, async () => {
  // `npm install convlog` in ~ left ~/package.json; ~/projects/sync has always been run from.
  const home = tree({
    'package.json': JSON.stringify({ name: 'home', dependencies: { convlog: '^1.0.0' } }),
    '.env': `DATABASE_URL=${other.url}\n`,
    'projects/sync/.env': localEnv(),
    'projects/sync/data': '',
  });
  try {
    const sync = path.join(home, 'projects', 'sync');
    const read = await settingsReadIn(sync);
    expect(read.database).toContain(new URL(db.url).pathname.slice(1));
    expect(read.dataDirRefusal).toBe(refusedAt(sync));
    expect(fs.existsSync(path.join(home, '.convlog')), 'no new database in ~').toBe(false);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

it("a monorepo root with convlog as a devDependency does not take over a workspace that has its own .env", { timeout: 60_000 }, async () => {
  // `npm run work` in tools/zd runs convlog (hoisted to the root's node_modules) from tools/zd.
  const repo = tree({
    'package.json': JSON.stringify({ name: 'monorepo', private: true, workspaces: ['tools/*'], devDependencies: { convlog: '^1.0.0' } }),
    '.env': `DATABASE_URL=${other.url}\n`,
    'tools/zd/package.json': JSON.stringify({ name: 'zd', scripts: { work: 'convlog work' } }),
    'tools/zd/.env': localEnv(),
    'tools/zd/data': '',
  });
  try {
    const zd = path.join(repo, 'tools', 'zd');
    const read = await settingsReadIn(zd);
    expect(read.database).toContain(new URL(db.url).pathname.slice(1));
    expect(read.dataDirRefusal).toBe(refusedAt(zd));
    expect(fs.existsSync(path.join(repo, '.convlog')), 'no new database at the root').toBe(false);
  } finally {
    fs.rmSync(repo, { recursive: true, force: true });
  }
});
