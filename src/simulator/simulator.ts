// Starting, steering and stopping a simulator instance: the object tests and the CLI hold.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultDice } from './faults.ts';
import { parseSimulatorOptions, resolveOptions, type ResolvedOptions, type SimulatorOptions } from './options.ts';
import { FixedWindowBudget } from './rate-limit.ts';
import { accountLimit, createRequestHandler } from './server.ts';
import { TicketStore } from './store.ts';
import type { ConversationEvent, MalformedKind, SimRequest } from './types.ts';

export interface Simulator {
  /** Base URL, e.g. http://127.0.0.1:43210 (no trailing slash). */
  url: string;
  port: number;
  /** Every request answered, in order (hanging requests are not answered, so not listed). */
  requests: SimRequest[];
  resetRequests(): void;
  options(): Readonly<ResolvedOptions>;
  /** Changes knobs at runtime. port and host only take effect at start. */
  setOptions(patch: Partial<SimulatorOptions>): void;
  /** The ticket's whole log as it would be served now (a copy). */
  events(ticketId: number): ConversationEvent[];
  eventCount(ticketId: number): number;
  /** Adds events after the existing ones, created now; marks the ticket changed. */
  appendEvents(ticketId: number, count: number): ConversationEvent[];
  /** Changes one served event in place (redaction, deleted attachment); marks the ticket changed. */
  editEvent(ticketId: number, reference: string, edit: (event: ConversationEvent) => void): void;
  /** Moves the ticket's updated_at and generated_timestamp to now, for the export. */
  markChanged(ticketId: number): void;
  /** Breaks the ticket's pages; with `afterEvents`, only those holding events past the first N (earlier pages stay good). */
  setMalformed(ticketId: number, kind: MalformedKind | null, options?: { afterEvents?: number }): void;
  /** Stops listening and drops every open socket, hanging ones included. */
  close(): Promise<void>;
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  let options: ResolvedOptions = resolveOptions(parseSimulatorOptions(opts));
  const startedAt = Date.now();
  const store = new TicketStore(() => options, Math.floor(startedAt / 1000));
  let dice = new FaultDice(options.seed);
  let closed = false;
  const requests: SimRequest[] = [];
  const pending = new Set<NodeJS.Timeout>();
  const windowSec = () => options.window;

  const handler = createRequestHandler({
    options: () => options,
    store,
    dice: () => dice,
    logBudget: new FixedWindowBudget(() => options.rateLimit, windowSec, startedAt),
    exportBudget: new FixedWindowBudget(() => options.exportRateLimit, windowSec, startedAt),
    accountBudget: new FixedWindowBudget(() => accountLimit(options), windowSec, startedAt),
    requests,
    pending,
    isClosed: () => closed,
  });
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${displayHost(options.host)}:${port}`,
    port,
    requests,
    resetRequests: () => {
      requests.length = 0;
    },
    options: () => Object.freeze({ ...options, ticketSizes: { ...options.ticketSizes }, forbidden: [...options.forbidden], deleted: [...options.deleted] }),
    setOptions(patch) {
      const next = resolveOptions({ ...options, ...parseSimulatorOptions(patch) });
      if (next.seed !== options.seed) dice = new FaultDice(next.seed);
      const wasDeleted = new Set(options.deleted);
      const nowDeleted = new Set(next.deleted);
      const previous = options;
      options = next;
      if (next.seed !== previous.seed) store.invalidate();
      // Deleting or restoring a ticket is a change the export must report.
      for (const id of new Set([...wasDeleted, ...nowDeleted])) {
        if (wasDeleted.has(id) !== nowDeleted.has(id) && store.exists(id)) store.markChanged(id);
      }
    },
    events: (ticketId) => store.events(ticketId),
    eventCount: (ticketId) => {
      if (!store.exists(ticketId)) throw new RangeError(`ticket ${ticketId} does not exist (the simulator serves tickets 1..${options.tickets})`);
      return store.eventCount(ticketId);
    },
    appendEvents: (ticketId, count) => store.append(ticketId, count),
    editEvent: (ticketId, reference, edit) => store.edit(ticketId, reference, edit),
    markChanged: (ticketId) => store.markChanged(ticketId),
    setMalformed: (ticketId, kind, options) => store.setMalformed(ticketId, kind, options?.afterEvents ?? 0),
    close() {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        for (const timer of pending) clearTimeout(timer);
        pending.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function displayHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
