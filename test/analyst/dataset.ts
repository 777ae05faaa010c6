// The analyst tests' known data set: simulator seed 1, tickets 1..40 synced in-process through
// syncTicket, plus one ticket of each unhappy outcome (41 deleted, 42 forbidden, 43 failed on a
// malformed page, recorded the way the worker records a final failure), and the ticket context
// (tickets read by id, the groups, brands and organizations lists).
import { loadConfig } from '../../src/config.ts';
import { recordStatus } from '../../src/db/ticket-status.ts';
import { silentLogger } from '../../src/log.ts';
import { startSimulator, type ConversationEvent, type Simulator } from '../../src/simulator/index.ts';
import { syncTicket, type SyncDeps } from '../../src/sync/sync-ticket.ts';
import { readAccountLists, readMissingTickets } from '../../src/sync/ticket-context.ts';
import { createZendeskHttp, localBudget } from '../../src/zendesk/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

export const SYNCED = Array.from({ length: 40 }, (_, i) => i + 1);
export const DELETED = 41;
export const FORBIDDEN = 42;
export const FAILED = 43;

export interface Dataset {
  database: TestDatabase;
  sim: Simulator;
  /** Every synced ticket's log as the simulator serves it, by ticket id. */
  events: Map<number, ConversationEvent[]>;
  close(): Promise<void>;
}

/**
 * A fresh database holding the data set. `env` goes through loadConfig, as the CLI's does, so
 * that CONVLOG_REDACT_SYSTEM_METADATA is read exactly as in production.
 */
export async function syncedDataset(env: Record<string, string> = {}): Promise<Dataset> {
  const config = loadConfig({ ...env });
  const database = await createTestDatabase();
  const sim = await startSimulator({ tickets: FAILED, seed: 1, rateLimit: 0, exportRateLimit: 0, deleted: [DELETED], forbidden: [FORBIDDEN] });
  sim.setMalformed(FAILED, 'missing-events');
  try {
    const http = createZendeskHttp({ baseUrl: sim.url, auth: { kind: 'token', email: 'a@b.c', token: 't' }, requestTimeoutMs: 10_000 });
    const deps: SyncDeps = {
      db: database.db,
      http,
      budget: localBudget(),
      log: silentLogger,
      redactSystemMetadata: config.redactSystemMetadata,
      // Small pages, so that the 100-, 101- and 250-event tickets span several.
      pageSize: 40,
    };
    const queue = [...SYNCED, DELETED, FORBIDDEN, FAILED];
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          await syncTicket(deps, id);
        } catch (error) {
          await recordStatus(database.db, id, { status: 'failed', reason: (error as Error).message });
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    // The ticket context, as `convlog sync` and `convlog backfill` store it.
    const context = { db: database.db, http, budget: localBudget(), log: silentLogger };
    await readMissingTickets(context, [...SYNCED, DELETED, FORBIDDEN, FAILED]);
    await readAccountLists(context);
  } catch (error) {
    await sim.close();
    await database.close();
    throw error;
  }
  const events = new Map(SYNCED.map((id) => [id, sim.events(id)]));
  return {
    database,
    sim,
    events,
    close: async () => {
      await sim.close();
      await database.close();
    },
  };
}
