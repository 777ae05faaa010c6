import { statusReport } from '../db/status-report.ts';
import { jobsByState } from '../queue/queue-stats.ts';
import { openRuntime } from './runtime.ts';
import type { Command } from './types.ts';

export const status: Command = {
  name: 'status',
  summary: 'queue depth, tickets by sync status, rows stored, last errors',
  usage: 'convlog status [--json]',
  options: { json: { type: 'boolean' } },
  async run(values, _positionals, ctx) {
    const runtime = await openRuntime(ctx);
    try {
      const report = { queue: await jobsByState(runtime.database.pool), ...(await statusReport(runtime.database.pool)) };
      if (values.json) {
        ctx.out(JSON.stringify(report, null, 2));
        return 0;
      }
      const q = report.queue;
      ctx.out(`database   ${runtime.database.where}`);
      ctx.out(`queue      ${q.created} queued, ${q.retry} waiting to retry, ${q.active} running, ${q.failed} dead (retries exhausted)`);
      ctx.out(`tickets    ${Object.entries(report.tickets).map(([k, v]) => `${v} ${k}`).join(', ')}`);
      ctx.out(`stored     ${report.stored.events} events, ${report.stored.authors} authors, ${report.stored.attachments} attachments, ${report.stored.thumbnails} thumbnails`);
      ctx.out(`last sync  ${report.lastSyncedAt ?? 'never'}`);
      if (report.oldestUnsynced) ctx.out(`oldest unsynced  ticket ${report.oldestUnsynced.ticketId}, waiting since ${report.oldestUnsynced.since}`);
      if (report.lastErrors.length > 0) {
        ctx.out('last errors');
        for (const e of report.lastErrors) ctx.out(`  ticket ${e.ticketId} (${e.status}, ${e.at}): ${e.error}`);
      }
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
