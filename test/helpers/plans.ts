// Postgres's own account of the statements a piece of code ran: auto_explain reports every plan,
// with the rows each node read, back to the connection as a notice. Tests use it to show that a
// statement on one ticket reads that ticket's rows, not the table.
import type pg from 'pg';
import { expect } from 'vitest';

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  'Rows Removed by Join Filter'?: number;
  Plans?: PlanNode[];
}

/**
 * Runs `work` on one connection with the plan of every statement it runs (nested ones too)
 * collected, under planner `settings`; `work` sees the plans collected so far.
 */
export async function plansOf(
  pool: pg.Pool,
  work: (client: pg.PoolClient, plans: readonly PlanNode[]) => Promise<unknown>,
  settings: string[] = [],
): Promise<PlanNode[]> {
  const client = await pool.connect();
  const plans: PlanNode[] = [];
  const onNotice = (notice: { message?: string }) => {
    const text = notice.message ?? '';
    const at = text.indexOf('plan:\n');
    if (at >= 0) plans.push((JSON.parse(text.slice(at + 'plan:\n'.length)) as { Plan: PlanNode }).Plan);
  };
  client.on('notice', onNotice);
  try {
    await client.query(`load 'auto_explain'`);
    for (const setting of [
      'auto_explain.log_min_duration = 0',
      'auto_explain.log_nested_statements = on',
      'auto_explain.log_analyze = on',
      'auto_explain.log_timing = off',
      'auto_explain.log_format = json',
      'auto_explain.log_level = notice',
      'client_min_messages = notice',
      ...settings,
    ]) {
      await client.query(`set ${setting}`);
    }
    await work(client, plans);
  } finally {
    client.off('notice', onNotice);
    client.release(true); // its settings go with it
  }
  expect(plans.length).toBeGreaterThan(0); // the report came back
  return plans;
}

function walk(plans: PlanNode[], visit: (node: PlanNode, loops: number) => void): void {
  const go = (node: PlanNode) => {
    visit(node, node['Actual Loops'] ?? 1);
    for (const child of node.Plans ?? []) go(child);
  };
  for (const plan of plans) go(plan);
}

/** Rows of `relation` that scans read (kept or filtered out), plus pairs of rows any join compared and threw away. */
export function rowsTouched(plans: PlanNode[], relation: string): number {
  let touched = 0;
  walk(plans, (node, loops) => {
    touched += (node['Rows Removed by Join Filter'] ?? 0) * loops;
    if (node['Relation Name'] === relation && node['Node Type'] !== 'ModifyTable') {
      touched += ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * loops;
    }
  });
  return touched;
}

/** Rows of `relation` that statements inserted, updated or deleted. */
export function rowsWritten(plans: PlanNode[], relation: string): number {
  let written = 0;
  walk(plans, (node) => {
    if (node['Relation Name'] === relation && node['Node Type'] === 'ModifyTable') written += node.Plans?.[0]?.['Actual Rows'] ?? 0;
  });
  return written;
}
