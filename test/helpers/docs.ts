// The repository's documents as tests read them: their example SQL must run and answer what
// the text says, so tests take the blocks from the documents rather than copies of them.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** A file of the repository, by its path from the root (`README.md`, `docs/tickets.md`). */
export function repositoryText(file: string): string {
  return fs.readFileSync(fileURLToPath(new URL(`../../${file}`, import.meta.url)), 'utf8');
}

/** The bodies of the fenced code blocks of `markdown` whose info string starts with `language`. */
export function fencedBlocks(markdown: string, language: string): string[] {
  const blocks: string[] = [];
  const fence = /^(`{3,}|~{3,})[ \t]*([^\n`]*)\n([\s\S]*?)^\1[ \t]*$/gm;
  for (const match of markdown.matchAll(fence)) {
    if (match[2].trim().split(/\s+/)[0]?.toLowerCase() === language) blocks.push(match[3]);
  }
  return blocks;
}

/** The README's ```sql blocks. */
export const readmeSql = (): string[] => fencedBlocks(repositoryText('README.md'), 'sql');

/** The one README query that contains every one of `needles` (a test fails if not exactly one). */
export function readmeQuery(...needles: string[]): string {
  const found = readmeSql().filter((sql) => needles.every((needle) => sql.includes(needle)));
  expect(found, `one README query containing ${needles.join(', ')}`).toHaveLength(1);
  return found[0];
}

/** The text of `markdown` under the heading `heading` (e.g. `## Commands`), up to the next heading of that level or above. */
export function markdownSection(markdown: string, heading: string): string {
  const level = heading.match(/^#+/)![0].length;
  const start = markdown.split('\n').findIndex((line) => line.trim() === heading);
  expect(start, `a "${heading}" heading`).toBeGreaterThanOrEqual(0);
  const lines = markdown.split('\n').slice(start + 1);
  const end = lines.findIndex((line) => new RegExp(`^#{1,${level}} `).test(line));
  return lines.slice(0, end < 0 ? undefined : end).join('\n');
}

/** The rows of the Markdown tables in `text`, as cells (an escaped `\|` stays in its cell); header and rule rows left out. */
export function tableRows(text: string): string[][] {
  const rows = text.split('\n').filter((line) => line.startsWith('|') && !/^\|[-| :]+\|$/.test(line.trim()));
  const cells = rows.map((line) => line.trim().slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()));
  // The first row of each table is its header, whose first cell is a plain word.
  return cells.filter((row) => row[0].includes('`'));
}

/** The `code spans` of a Markdown fragment. */
export const codeSpans = (text: string): string[] => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
