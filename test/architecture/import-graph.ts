// The folder-level import graph of src/, read with a regular expression over the import and
// export statements (no parser needed: every import in src/ is a static string), and the two
// checks the layers test makes on it.
import fs from 'node:fs';
import path from 'node:path';

export interface Edge {
  /** Folders (`src/db/x.ts` → `db`); a file directly in src/ is its own unit (`cli`, `errors`). */
  from: string;
  to: string;
  /** The importing file and the specifier, to say where a violation is. */
  where: string;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** `db` for src/db/..., `cli` for src/cli.ts; undefined outside src/ (package.json). */
export function unitOf(srcRoot: string, file: string): string | undefined {
  const relative = path.relative(srcRoot, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  const [first, ...rest] = relative.split(path.sep);
  return rest.length === 0 ? first.replace(/\.ts$/, '') : first;
}

/** Every relative import between two different units of src/. */
export function importEdges(srcRoot: string): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(srcRoot)) {
    const from = unitOf(srcRoot, file)!;
    const text = fs.readFileSync(file, 'utf8');
    for (const [, specifier] of text.matchAll(SPECIFIER)) {
      if (!specifier.startsWith('.')) continue;
      const to = unitOf(srcRoot, path.resolve(path.dirname(file), specifier));
      if (to !== undefined && to !== from) edges.push({ from, to, where: `${path.relative(srcRoot, file)} imports ${specifier}` });
    }
  }
  return edges;
}

/** Edges that the table does not allow; a unit missing from the table may import nothing. */
export function layerViolations(edges: readonly Edge[], allowed: Readonly<Record<string, readonly string[]>>): string[] {
  return edges
    .filter((edge) => !(allowed[edge.from] ?? []).includes(edge.to))
    .map((edge) => `${edge.from} → ${edge.to} (${edge.where})`);
}

/** Each cycle between units once, as `a → b → a`. */
export function unitCycles(edges: readonly Edge[]): string[] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) next.set(from, (next.get(from) ?? new Set()).add(to));
  const cycles = new Set<string>();
  const walk = (unit: string, trail: string[]) => {
    const at = trail.indexOf(unit);
    if (at >= 0) {
      const loop = trail.slice(at);
      // Rotated to start at its smallest name, so a cycle found from any of its units is one entry.
      const start = loop.indexOf([...loop].sort()[0]);
      const rotated = [...loop.slice(start), ...loop.slice(0, start)];
      cycles.add([...rotated, rotated[0]].join(' → '));
      return;
    }
    for (const to of next.get(unit) ?? []) walk(to, [...trail, unit]);
  };
  for (const unit of next.keys()) walk(unit, []);
  return [...cycles].sort();
}
