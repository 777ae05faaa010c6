// What every node-postgres connection convlog opens shares: our pool, pg-boss's (src/queue/boss.ts)
// and each connection of its own (quietClient, and probe's look at whether a server answers).
import pg from 'pg';

/**
 * TCP keepalive. A server whose network starts dropping packets (a cable, a firewall's state
 * lost in a failover, a machine switched off) sends no reset: without keepalive a statement waits
 * on its open socket for ever, a worker never gives up, a pool keeps its dead connections. With
 * it, a socket idle this long (a statement waiting for its answer is idle) has its peer asked by
 * the kernel, and Node (libuv) asks ten times a second apart: about 20 s after the last packet a
 * dead peer fails the statement as a lost connection. A server that is up answers the probes, so
 * a long statement (a migration, rebuild-analytics) is never cut short. Not covered: a statement
 * sent into the outage (unacknowledged data is retransmitted for about 15 minutes first, Linux's
 * tcp_retries2), and a server that answers TCP but not queries (frozen): only a query's own time
 * limit (pg's query_timeout) ends those.
 */
export const KEEPALIVE = { keepAlive: true, keepAliveInitialDelayMillis: 10_000 } as const;

/** How often a running statement's backend checks that its client is still there. */
const CLIENT_CHECK = '2s';

/**
 * What every connection of convlog's pools runs before its first use (pg-pool's onConnect; pg-boss
 * and the looks build their pools from the same options): settings a database or login may give
 * people's sessions that convlog's statements are not written for.
 * - Read committed: convlog's statements and their lock order are written for it. A default of
 *   serializable made them fail by the hundred ("could not serialize access": 651 for 400
 *   tickets, and a sync that crawled through retries).
 * - No statement_timeout and no lock_timeout: each statement's work is bounded by its size (a
 *   page, a batch of ids), and convlog's writers wait for each other's locks by design. A limit
 *   meant for people's queries cancelled work that was not at fault: with a second's limit,
 *   `dequeue --all` of 300,000 tickets failed as "an unexpected error", and a long ticket's
 *   upkeep, its full read or a migration would fail at every attempt. Where convlog bounds a
 *   statement itself (the looks, `query`, `enqueue --sql`) it sets its own limit in that
 *   statement's transaction.
 * - No transaction_timeout (Postgres 17) and no idle_in_transaction_session_timeout: the same
 *   limits on a whole transaction, and the migrations run as one (a database with 150 ms of
 *   transaction_timeout had every start of every command fail, its session ended under it); nor
 *   idle_session_timeout (Postgres 14), which would end the pool's idle connections under it.
 *   A setting the server does not have is left alone (current_setting's missing_ok).
 * - A statement whose process is gone is ended (client_connection_check_interval, Postgres 14).
 *   Postgres otherwise notices a closed connection only when the statement ends and it writes
 *   the answer: a worker killed (or its machine lost) during a migration, a long ticket's upkeep
 *   or a full read left that statement running to its end, holding the migration lock and the
 *   ticket's rows, so the next process to start waited for it, minutes for a large table.
 */
export const SESSION_SETUP = {
  onConnect: async (client: pg.ClientBase): Promise<void> => {
    await client.query(
      `select set_config('default_transaction_isolation', 'read committed', false), set_config('statement_timeout', '0', false), set_config('lock_timeout', '0', false),
              set_config('idle_in_transaction_session_timeout', '0', false),
              case when current_setting('transaction_timeout', true) is not null then set_config('transaction_timeout', '0', false) end,
              case when current_setting('idle_session_timeout', true) is not null then set_config('idle_session_timeout', '0', false) end;
       -- Refused by a server older than 14 and by one that cannot watch a socket (Windows accepts only 0).
       do $$ begin perform set_config('client_connection_check_interval', '${CLIENT_CHECK}', false); exception when others then null; end $$`,
    );
  },
};

/**
 * A connection of its own (not the pool's), with KEEPALIVE unless `config` says otherwise. A
 * server going away emits 'error' on the client as well as failing its query or connect: unheard,
 * the event would end the process, so it is listened for here and the failure is the caller's.
 */
export function quietClient(config: pg.ClientConfig): pg.Client {
  const client = new pg.Client({ ...KEEPALIVE, ...config });
  client.on('error', () => {});
  return client;
}

/**
 * One connection and `select 1`, each within `timeoutMs`: undefined when the server answered, else
 * why not. An abort of `signal` ends it at once.
 */
export async function probe(url: string, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
  // query_timeout: a server that accepts the connection and then never answers (frozen, or a
  // network that dropped the packets after) must fail this attempt too, or the wait never ends.
  const client = quietClient({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  // node-postgres never settles a connect() that end() cut short: the abort ends the probe itself,
  // or the wait would hang with nothing left to run and Node would exit 13.
  let abandon = () => {};
  const abandoned = new Promise<never>((_resolve, reject) => {
    abandon = () => {
      reject(new Error('stopped'));
      void client.end().catch(() => {});
    };
  });
  signal?.addEventListener('abort', abandon, { once: true });
  try {
    await Promise.race([client.connect().then(() => client.query('select 1')), abandoned]);
    return undefined;
  } catch (error) {
    return error ?? new Error('connection failed');
  } finally {
    signal?.removeEventListener('abort', abandon);
    await client.end().catch(() => {});
  }
}

let endingHushed = false;

/**
 * pg-boss ends its LISTEN connection (at stop, after a failed start attempt, when it reconnects)
 * by taking every listener off the client and then calling end(). A FATAL message the server sent
 * and the client has not read yet (a Postgres restart, an embedded server killed) is then emitted
 * as 'error' on a client nothing listens to, and an unheard 'error' ends the process: `work` died
 * with a stack trace instead of its one line. A client being ended has nothing left to report, so
 * from end() on its errors go to a listener that drops them. Once per process, for every client.
 */
export function hushEndingClients(): void {
  if (endingHushed) return;
  endingHushed = true;
  const end = pg.Client.prototype.end as (this: pg.Client, ...args: unknown[]) => unknown;
  (pg.Client.prototype as { end: unknown }).end = function (this: pg.Client, ...args: unknown[]) {
    if (this.listenerCount('error') === 0) this.on('error', () => {});
    return end.apply(this, args);
  };
}
