// Ingest with the budget out of the way: the simulator (its own process, unlimited, no latency)
// serves tickets as fast as it can, one `convlog work --until-idle` process stores them, and
// Postgres's clock says how long the tickets took from the first start to the last finish.
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { startBoss } from '../../src/queue/boss.ts';
import { silentLogger } from '../../src/log.ts';
import { CREDENTIALS, convlog, freePort, jobOutcomes, loadAverage, postgresCpuMeter, waitForOutput, type Postgres } from './harness.ts';

export interface IngestRunOptions {
  label: string;
  /** Ticket id → events. */
  tickets: Record<number, number>;
  log?: (line: string) => void;
}

export interface IngestRunResult {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  peakRssBytes: number;
}

export async function ingestRun(postgres: Postgres, options: IngestRunOptions): Promise<IngestRunResult> {
  const say = options.log ?? (() => {});
  const ids = Object.keys(options.tickets).map(Number);
  const expected = Object.values(options.tickets).reduce((a, b) => a + b, 0);
  const database = await postgres.database(options.label);
  const port = await freePort();
  const sizes = Object.entries(options.tickets).map(([id, n]) => `${id}:${n}`).join(',');
  const sim = convlog(['simulator', '--port', String(port), '--tickets', String(Math.max(...ids)), '--ticket-sizes', sizes, '--rate-limit', '0', '--latency', '0', '--preload'], {});
  let worker: ReturnType<typeof convlog> | undefined;
  try {
    await waitForOutput(sim, /Zendesk simulator on \S+/);
    const boss = await startBoss(database, silentLogger);
    await enqueueTickets(boss, database.db, ids);
    await boss.stop({ graceful: true, timeout: 5_000 });

    worker = convlog(['work', '--until-idle'], {
      DATABASE_URL: database.url,
      ZENDESK_BASE_URL: `http://127.0.0.1:${port}`,
      ...CREDENTIALS,
      CONVLOG_RATE_LIMIT: '1000000',
    });
    const [simCpuBefore, simKernelBefore] = [sim.cpuSeconds(), sim.kernelSeconds()];
    const pgMeter = await postgresCpuMeter(database.pool);
    const code = await worker.exited;
    const peakRssBytes = worker.peakRss();
    const cpu = (seconds: number, kernel: number) => `${seconds.toFixed(1)} (kernel ${kernel.toFixed(1)})`;
    const workerCpu = cpu(worker.cpuSeconds(), worker.kernelSeconds());
    const simCpu = cpu(sim.cpuSeconds() - simCpuBefore, sim.kernelSeconds() - simKernelBefore);
    const pgCpu = pgMeter.stop();
    if (code !== 0) throw new Error(`worker exited with ${code}: ${worker.output().slice(-3000)}`);
    const { rows } = await database.pool.query<{ events: number; seconds: number; synced: number }>(
      `select (select count(*)::int from zendesk.conversation_events) as events,
              extract(epoch from max(last_synced_at) - min(started_at))::float8 as seconds,
              count(*) filter (where status = 'synced')::int as synced
         from zendesk.ticket_sync`,
    );
    const { events, seconds, synced } = rows[0];
    const jobs = await jobOutcomes(database.pool);
    if (events !== expected || synced !== ids.length) {
      throw new Error(`stored ${events} of ${expected} events, ${synced} of ${ids.length} tickets synced (failed jobs ${jobs.failed})`);
    }
    say(
      `  ${options.label}: ${events} events in ${seconds.toFixed(2)} s = ${Math.round(events / seconds)} events/s; worker peak RSS ${(peakRssBytes / 1e6).toFixed(0)} MB; ` +
        `CPU s: worker ${workerCpu} (start-up included), simulator ${simCpu}, postgres ${pgCpu === null ? 'not measured (another machine)' : cpu(pgCpu.seconds, pgCpu.kernelSeconds)}; load average ${loadAverage()}; retries ${jobs.retries}`,
    );
    return { events, seconds, eventsPerSecond: events / seconds, peakRssBytes };
  } finally {
    await worker?.stop();
    await sim.stop();
    await database.close();
  }
}
