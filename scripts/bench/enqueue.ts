// Queueing a million tickets: `convlog enqueue --range 1..N` as a person would run it, timed
// from spawn to exit (process start-up included).
import { convlog, loadAverage, type Postgres } from './harness.ts';

export interface EnqueueRunResult {
  seconds: number;
  queued: number;
}

export async function enqueueRun(postgres: Postgres, options: { label: string; count: number; log?: (line: string) => void }): Promise<EnqueueRunResult> {
  const say = options.log ?? (() => {});
  const database = await postgres.database(options.label);
  try {
    const started = process.hrtime.bigint();
    const run = convlog(['enqueue', '--range', `1..${options.count}`], { DATABASE_URL: database.url });
    let cpu = 0;
    const sample = setInterval(() => (cpu = run.cpuSeconds()), 250);
    const code = await run.exited;
    clearInterval(sample);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (code !== 0) throw new Error(`enqueue exited with ${code}: ${run.output().slice(-3000)}`);
    const { rows } = await database.pool.query<{ jobs: number; tickets: number }>(
      `select (select count(*)::int from pgboss.job where name = 'ticket-sync') as jobs,
              (select count(*)::int from zendesk.ticket_sync where status = 'queued') as tickets`,
    );
    if (rows[0].jobs !== options.count || rows[0].tickets !== options.count) {
      throw new Error(`queued ${rows[0].jobs} jobs and ${rows[0].tickets} ticket rows, expected ${options.count}`);
    }
    say(`  ${run.output().trim().split('\n').pop()}; ${seconds.toFixed(1)} s wall, ${cpu.toFixed(1)} s CPU in convlog, peak RSS ${(run.peakRss() / 1e6).toFixed(0)} MB; load average ${loadAverage()}`);
    return { seconds, queued: rows[0].jobs };
  } finally {
    await database.close();
  }
}
