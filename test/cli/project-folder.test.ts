// From a folder below a clone's root (`cd docs && npx convlog status`), convlog read no .env and
// opened a new, empty embedded database in docs/.convlog. It now finds its project folder as
// `npm run` does, the nearest package.json above (convlog's own, or one depending on convlog),
// and reads .env and puts the default data folder there; a relative CONVLOG_DATA_DIR too.
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
fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'support-data', dependencies: { convlog: 'github:example/convlog' } }));

let db: { url: string; drop(): Promise<void> };
beforeAll(async () => {
  db = await createEmptyDatabase();
});
afterAll(async () => {
  await db?.drop();
  fs.rmSync(root, { recursive: true, force: true });
});

it('is the nearest folder above whose package.json is convlog or depends on it, passing other packages by', () => {
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-project-none-'));
  try {
    expect(projectFolder(deep)).toBe(root);
    expect(projectFolder(root)).toBe(root);
    // A workspace that does not use convlog, and a package.json that is not JSON, are not its project.
    fs.writeFileSync(path.join(docs, 'package.json'), JSON.stringify({ name: 'docs-site', devDependencies: { vitepress: '1' } }));
    fs.writeFileSync(path.join(deep, 'package.json'), '{ not json');
    expect(projectFolder(deep)).toBe(root);
    // A clone of convlog itself.
    fs.writeFileSync(path.join(docs, 'package.json'), JSON.stringify({ name: 'convlog' }));
    expect(projectFolder(deep)).toBe(docs);
    // None at all: the folder itself, as before.
    expect(projectFolder(elsewhere)).toBe(elsewhere);
  } finally {
    fs.rmSync(path.join(docs, 'package.json'), { force: true });
    fs.rmSync(path.join(deep, 'package.json'), { force: true });
    fs.rmSync(elsewhere, { recursive: true, force: true });
  }
});

it("run from a folder below the root, a command reads the root's .env", { timeout: 60_000 }, async () => {
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

it('the default data folder, and a relative CONVLOG_DATA_DIR from .env, are at the root', { timeout: 60_000 }, async () => {
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
