// Which processes work the sync queue now, from pg-boss's registry of its instances, and how a
// line names them. Every query of pg-boss's tables but this registry's is in queue-stats.ts.
import os from 'node:os';
import type pg from 'pg';
import { isAlive } from '../db/postmaster.ts';
import { BOSS_SCHEMA, SYNC_QUEUE } from './boss.ts';
import { grouped, namedApart } from '../text.ts';

// Every PgBoss object writes its row as it starts and beats every instance heartbeat (30 s), and a
// graceful stop marks it stopped. `work` and `sync` start theirs supervising, and list a worker on
// the ticket-sync queue from their first beat; a command that only reads or queues (status,
// enqueue, serve, backfill) does neither. A killed process is not marked: it goes quiet, and
// counts as gone once it has missed three beats, as pg-boss itself reads its registry.

/** pg-boss counts an instance live until it misses this many heartbeats (its INSTANCE_QUIET_BEATS). */
const QUIET_BEATS = 3;
/** So a killed worker counts as gone this long after its last heartbeat, at pg-boss's default of 30 s. */
export const WORKER_QUIET_SECONDS = 30 * QUIET_BEATS;

export interface QueueWorker {
  /**
   * Its entry in the registry (one PgBoss object a process): what tells apart processes whose pid
   * and host are the same, as containers sharing a hostname, each its process's pid 1, are.
   */
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  /** Its last heartbeat to pg-boss's registry. */
  heardAt: string;
  /**
   * Whether a connection to this database carries its name (pg-boss names an instance's
   * connections after it, and records the name): null for an entry without one. A killed
   * process's connections end with it, long before its heartbeat is missed.
   */
  connected: boolean | null;
}

/**
 * The processes working the queue: live in pg-boss's registry (not stopped, heard from within
 * three of their heartbeats), and supervising or working the ticket-sync queue. Oldest first.
 * The registry is small (pg-boss keeps a thousand dead rows at most).
 */
export async function liveQueueWorkers(pool: pg.Pool): Promise<QueueWorker[]> {
  // pg_stat_activity shows every role the application_name of every session.
  const { rows } = await pool.query<{ id: string; host: string; pid: number; started_on: Date; heartbeat_on: Date; connected: boolean | null }>(
    `select id, host, pid, started_on, heartbeat_on,
            case when application_name is not null then exists (
              select 1 from pg_stat_activity a where a.datname = current_database() and a.application_name = i.application_name) end as connected
       from ${BOSS_SCHEMA}.instance i
      where stopped_on is null
        and heartbeat_on >= now() - heartbeat_seconds * $2::int * interval '1 second'
        and (supervise or workers @> jsonb_build_array(jsonb_build_object('queue', $1::text)))
      order by started_on, id`,
    [SYNC_QUEUE, QUIET_BEATS],
  );
  return rows.map((r) => ({ id: r.id, host: r.host, pid: r.pid, startedAt: r.started_on.toISOString(), heardAt: r.heartbeat_on.toISOString(), connected: r.connected }));
}

/**
 * The processes working the queue but this one, and but those known to have ended here: what
 * `backfill` names as the ones to sync its tickets, and what keeps a stopped `sync` from putting
 * tickets another may be waiting for back to the backlog.
 */
export async function otherQueueWorkers(pool: pg.Pool): Promise<QueueWorker[]> {
  return (await liveQueueWorkers(pool)).filter((w) => !(w.pid === process.pid && w.host === os.hostname()) && !endedHere(w));
}

/**
 * A listed process known to have ended without stopping (killed, crashed): on this host, with no
 * connection and no process of its pid. Neither alone says so: a container sharing this hostname
 * has pids of its own, and a connection can be between reconnects; a pid taken again since
 * keeps the process listed, as before.
 */
export function endedHere(worker: QueueWorker): boolean {
  return worker.connected === false && worker.host === os.hostname() && !isAlive(worker.pid);
}

/** Past one heartbeat and half another without a word, a listed process is more likely gone than late. */
const SILENT_AFTER_SECONDS = 45;

/**
 * The processes working the queue as a line names them: "pid 11 on a, pid 12 on b, 2 more"; two of
 * the same pid and host (containers sharing a hostname) named apart by their registry entries.
 * With `nowMs` (the database's clock, which wrote the heartbeats), a process not heard from for
 * SILENT_AFTER_SECONDS says so: a killed worker stays listed until WORKER_QUIET_SECONDS, and
 * "working the queue" alone would hide that it may be gone.
 */
export function workersNamed(processes: readonly QueueWorker[], nowMs?: number): string {
  const silent = (p: QueueWorker) => {
    if (nowMs === undefined) return '';
    if (p.connected === false) return ` [no connection to the database: killed or cut off? listed until ${WORKER_QUIET_SECONDS} s without a heartbeat]`;
    const seconds = Math.floor((nowMs - Date.parse(p.heardAt)) / 1000);
    return seconds < SILENT_AFTER_SECONDS ? '' : ` [not heard from for ${seconds} s: killed or cut off? listed until ${WORKER_QUIET_SECONDS} s]`;
  };
  const name = namedApart(processes, (p) => `pid ${p.pid} on ${p.host}`);
  const named = processes.slice(0, 3).map((p) => name(p) + silent(p));
  if (processes.length > 3) named.push(`${grouped(processes.length - 3)} more`);
  return named.join(', ');
}
