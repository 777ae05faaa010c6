// The folders of src/ form layers that only point down (docs/architecture.md):
//   cli → commands → serve → queue → sync → zendesk → db → config, errors, ids, text, log, timing
// with the simulator beside them (only commands start it). A folder importing one above it, or
// any cycle between folders, fails here with the file and import that caused it.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importEdges, layerViolations, unitCycles, type Edge } from './import-graph.ts';

const BASE = ['config', 'errors', 'ids', 'text', 'log', 'timing'];
const ALLOWED: Record<string, string[]> = {
  cli: ['commands', ...BASE],
  commands: ['serve', 'queue', 'sync', 'zendesk', 'db', 'simulator', ...BASE],
  // The webhook receiver and health/metrics endpoints: beside the commands, above the queue.
  serve: ['queue', 'sync', 'zendesk', 'db', ...BASE],
  queue: ['sync', 'zendesk', 'db', ...BASE],
  sync: ['zendesk', 'db', ...BASE],
  zendesk: ['db', ...BASE],
  db: BASE,
  simulator: BASE,
  // How each variable is read: only config.ts puts the fields together; where .env is (the
  // project folder); nearest, for "did you mean" on a misspelt variable.
  config: ['config-fields', 'project-folder', 'errors', 'text', 'log'],
  // quoted, to show a bad value shortened and escaped.
  'config-fields': ['text'],
  'project-folder': [],
  // printable: the one escaping of what a terminal may act on, for the one-line terminal log.
  log: ['text'],
  errors: [],
  timing: [],
  ids: [],
  text: [],
};

const SRC = path.resolve(import.meta.dirname, '../../src');

describe('src/ layers', () => {
  const edges = importEdges(SRC);

  it('reads the imports between folders', () => {
    // A broken reader would find nothing and pass everything below.
    expect(edges.length).toBeGreaterThan(20);
    expect(edges).toContainEqual(expect.objectContaining({ from: 'queue', to: 'sync' }));
    expect(edges).toContainEqual(expect.objectContaining({ from: 'zendesk', to: 'errors' }));
  });

  it('places every folder in the table, so a new one must be given its layer', () => {
    const units = new Set(edges.flatMap((e) => [e.from, e.to]));
    expect([...units].filter((unit) => !(unit in ALLOWED))).toEqual([]);
  });

  it('has no folder importing one above it', () => {
    expect(layerViolations(edges, ALLOWED)).toEqual([]);
  });

  it('has no cycle between folders', () => {
    expect(unitCycles(edges)).toEqual([]);
  });
});

describe('the checks themselves', () => {
  const edge = (from: string, to: string): Edge => ({ from, to, where: `src/${from}/x.ts imports ../${to}/y.ts` });

  it('report an upward import with where it is', () => {
    const violations = layerViolations([edge('queue', 'db'), edge('db', 'sync')], ALLOWED);
    expect(violations).toEqual(['db → sync (src/db/x.ts imports ../sync/y.ts)']);
  });

  it('refuse every import of a folder missing from the table', () => {
    expect(layerViolations([edge('demo', 'errors')], ALLOWED)).toHaveLength(1);
  });

  it('report each cycle once, from whichever folder it is found', () => {
    const cycles = unitCycles([edge('sync', 'queue'), edge('queue', 'sync'), edge('commands', 'demo'), edge('demo', 'commands'), edge('commands', 'queue')]);
    expect(cycles).toEqual(['commands → demo → commands', 'queue → sync → queue']);
  });

  it('find no cycle in a graph that only points down', () => {
    expect(unitCycles([edge('commands', 'queue'), edge('queue', 'sync'), edge('commands', 'sync')])).toEqual([]);
  });
});
