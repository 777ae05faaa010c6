// Global setup of the fault suite: a file the scenarios append their summary lines to, printed
// as one table when the suite ends (so CI logs show what was injected and what was checked).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import type { SummaryRow } from './summary.ts';
import { counted } from '../../src/text.ts';

export default function setup(project: TestProject) {
  const file = path.join(os.tmpdir(), `convlog-fault-summary-${process.pid}.jsonl`);
  fs.writeFileSync(file, '');
  project.provide('faultSummaryFile', file);
  const started = Date.now();
  return () => {
    const rows = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as SummaryRow);
    fs.rmSync(file, { force: true });
    console.log(`\n${table(rows)}\nfault suite: ${counted(rows.length, 'scenario')}, ${rows.filter((r) => r.result !== 'pass').length} failed, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  };
}

function table(rows: SummaryRow[]): string {
  const header = ['scenario', 'injected', 'checked', 'expected', 'stored', 'dup', 'lost', 's', 'result'];
  const cells = rows.map((r) => [
    r.scenario,
    r.injected,
    r.checked,
    r.expected ?? '-',
    r.stored ?? '-',
    r.duplicates ?? '-',
    r.lost ?? '-',
    r.seconds.toFixed(0),
    r.result,
  ].map(String));
  const widths = header.map((h, i) => Math.min(i === 1 || i === 2 ? 60 : 40, Math.max(h.length, ...cells.map((c) => c[i].length))));
  const wrap = (text: string, width: number) => {
    const lines: string[] = [];
    let line = '';
    for (const word of text.split(' ')) {
      if (line && (line + ' ' + word).length > width) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
    return lines;
  };
  const render = (row: string[]) => {
    const wrapped = row.map((c, i) => wrap(c, widths[i]));
    const height = Math.max(...wrapped.map((w) => w.length));
    return Array.from({ length: height }, (_, k) => wrapped.map((w, i) => (w[k] ?? '').padEnd(widths[i])).join(' | ').trimEnd()).join('\n');
  };
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  return ['FAULT SUITE SUMMARY', render(header), rule, ...cells.map((c) => `${render(c)}\n${rule}`)].join('\n');
}
