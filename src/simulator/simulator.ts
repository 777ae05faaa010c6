// Starting, steering and stopping a simulator instance: the object tests and the CLI hold.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { userRecord } from './catalog.ts';
import { FaultDice } from './faults.ts';
import { generateEvent } from './generate.ts';
import { accountNow, parseSimulatorOptions, resolveOptions, type ResolvedOptions, type SimulatorOptions } from './options.ts';
import { historyShiftSec } from './profile.ts';
import { FixedWindowBudget } from './rate-limit.ts';
import { createRequestHandler } from './server.ts';
import { TicketStore } from './store.ts';
import type { ConversationEvent, ExportTicket, MalformedKind, SimRequest, TicketPatch } from './types.ts';
import { Webhooks, type WebhookDelivery, type WebhookFault } from './webhooks.ts';

/** Webhooks the simulator has sent, and the knobs tests turn on them. */
export interface SimulatorWebhooks {
  /** Every delivery, in order, with its answer once it came. */
  readonly deliveries: readonly WebhookDelivery[];
  /** Every later delivery is sent this way (null: correctly signed). */
  setFault(fault: WebhookFault | null): void;
  /** Sends a delivery again byte for byte (default: the last one). */
  replay(delivery?: WebhookDelivery): void;
  /** Resolves when every delivery sent so far has been answered or failed. */
  settled(): Promise<void>;
}

export interface Simulator {
  /** Base URL, e.g. http://127.0.0.1:43210 (no trailing slash). */
  url: string;
  port: number;
  /** Every request answered, in order (hanging requests are not answered, so not listed). */
  requests: SimRequest[];
  /**
   * Every request as it arrives, in order: the records `requests` lists once answered, with status
   * 0 until then (a hung one keeps 0). A test waits here for a request to reach the simulator
   * rather than guessing how long that takes. How a request is answered (its fault, its latency,
   * the answer itself) is decided in the turn it arrives in, except the webhooks API's (it reads
   * a body first), so one seen here has been decided: options set after it no longer change it.
   */
  received: SimRequest[];
  /** Forgets the requests received and answered so far. */
  resetRequests(): void;
  options(): Readonly<ResolvedOptions>;
  /** Changes knobs at runtime. port and host only take effect at start; a new seed or historyEnd regenerates the data. */
  setOptions(patch: Partial<SimulatorOptions>): void;
  /** The ticket's whole log as it would be served now (a copy). */
  events(ticketId: number): ConversationEvent[];
  eventCount(ticketId: number): number;
  /** Adds events after the existing ones, created now; marks the ticket changed. */
  appendEvents(ticketId: number, count: number): ConversationEvent[];
  /** Changes one served event in place (redaction, deleted attachment); marks the ticket changed. */
  editEvent(ticketId: number, reference: string, edit: (event: ConversationEvent) => void): void;
  /** Moves generated_timestamp (and updated_at, unless `silent`: a system update) to now, for the export. */
  markChanged(ticketId: number, options?: { silent?: boolean }): void;
  /** The ticket as the export and show_many serve it now (a copy, without url). */
  ticket(ticketId: number): ExportTicket;
  /** Whether an AI agent handles the ticket (only support_type_scope=all or ai_agent exports it). */
  isAiAgentTicket(ticketId: number): boolean;
  /** Changes ticket fields as an agent would: the export shows them, webhooks report them. */
  updateTicket(ticketId: number, patch: TicketPatch): void;
  /** Soft-deletes the ticket (restorable) or, with `permanently`, scrubs it for good. */
  deleteTicket(ticketId: number, options?: { permanently?: boolean }): void;
  /** Undoes a soft delete. */
  restoreTicket(ticketId: number): void;
  /** Renames a user: side-loads serve the new name, with updated_at now. Changes no ticket and sends no webhook. */
  renameUser(userId: number, name: string): void;
  /** Adds ticket N+1 (generated like the others, changed now) and returns its id. */
  createTicket(): number;
  webhooks: SimulatorWebhooks;
  /** Breaks the ticket's pages; with `afterEvents`, only those holding events past the first N (earlier pages stay good). */
  setMalformed(ticketId: number, kind: MalformedKind | null, options?: { afterEvents?: number }): void;
  /** Stops listening and drops every open socket, hanging ones included. */
  close(): Promise<void>;
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  let options: ResolvedOptions = resolveOptions(parseSimulatorOptions(opts));
  const startedAt = Date.now();
  const store = new TicketStore(() => options, Math.floor(accountNow(options) / 1000));
  void store.shiftSec; // where historyEnd puts the histories: a problem with it is refused before listening
  if (options.preload) preload(store);
  let dice = new FaultDice(options.seed);
  let closed = false;
  const requests: SimRequest[] = [];
  const received: SimRequest[] = [];
  const pending = new Set<NodeJS.Timeout>();
  const windowSec = () => options.window;
  const webhooks = new Webhooks(() => accountNow(options));
  if (options.webhookUrl !== '') webhooks.register({ endpoint: options.webhookUrl, secret: options.webhookSecret });
  store.onChange((change) => {
    if (webhooks.any) webhooks.publish(change, store.exportTicket(change.ticketId));
  });

  const handler = createRequestHandler({
    options: () => options,
    store,
    dice: () => dice,
    logBudget: new FixedWindowBudget(() => options.rateLimit, windowSec, startedAt),
    exportBudget: new FixedWindowBudget(() => options.exportRateLimit, windowSec, startedAt),
    accountBudget: new FixedWindowBudget(() => options.accountRateLimit, windowSec, startedAt),
    requests,
    received,
    pending,
    isClosed: () => closed,
    webhooks: (req, url, origin) => webhooks.handle(req, url, origin),
  });
  const mustExist = (ticketId: number) => {
    if (!store.exists(ticketId)) throw new RangeError(`ticket ${ticketId} does not exist (the simulator serves tickets 1..${options.tickets})`);
  };
  const setOptions = (patch: Partial<SimulatorOptions>) => {
    const next = resolveOptions({ ...options, ...parseSimulatorOptions(patch) });
    const regenerate = next.seed !== options.seed || next.historyEnd !== options.historyEnd;
    // A seed or historyEnd that cannot place the histories is refused with nothing changed.
    if (regenerate) historyShiftSec(next);
    if (next.seed !== options.seed) dice = new FaultDice(next.seed);
    const previous = options;
    options = next;
    if (regenerate) store.invalidate();
    if (options.preload && (regenerate || !previous.preload)) preload(store);
    // Deleting or restoring a ticket is a change the export must report, and webhooks too.
    const [wasDeleted, nowDeleted, wasScrubbed, nowScrubbed] = [previous.deleted, next.deleted, previous.scrubbed, next.scrubbed].map((ids) => new Set(ids));
    for (const id of new Set([...wasDeleted, ...nowDeleted, ...wasScrubbed, ...nowScrubbed])) {
      if (!store.exists(id)) continue;
      const kind = nowScrubbed.has(id) && !wasScrubbed.has(id) ? 'permanently_deleted' : nowScrubbed.has(id) ? null : nowDeleted.has(id) && !wasDeleted.has(id) ? 'soft_deleted' : !nowDeleted.has(id) && wasDeleted.has(id) ? 'undeleted' : null;
      if (kind === null) continue;
      store.markChanged(id);
      store.emitChange({ ticketId: id, kind });
    }
  };
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
    received,
    resetRequests: () => {
      requests.length = 0;
      received.length = 0;
    },
    options: () => Object.freeze({ ...options, ticketSizes: { ...options.ticketSizes }, forbidden: [...options.forbidden], deleted: [...options.deleted], scrubbed: [...options.scrubbed] }),
    setOptions,
    events: (ticketId) => store.events(ticketId),
    eventCount: (ticketId) => {
      if (!store.exists(ticketId)) throw new RangeError(`ticket ${ticketId} does not exist (the simulator serves tickets 1..${options.tickets})`);
      return store.eventCount(ticketId);
    },
    appendEvents: (ticketId, count) => store.append(ticketId, count),
    editEvent: (ticketId, reference, edit) => store.edit(ticketId, reference, edit),
    markChanged: (ticketId, options) => store.markChanged(ticketId, options),
    ticket: (ticketId) => {
      mustExist(ticketId);
      return store.exportTicket(ticketId);
    },
    isAiAgentTicket: (ticketId) => {
      mustExist(ticketId);
      return store.isAiAgentTicket(ticketId);
    },
    updateTicket: (ticketId, patch) => store.updateTicket(ticketId, patch),
    deleteTicket(ticketId, how) {
      mustExist(ticketId);
      if (how?.permanently) setOptions({ scrubbed: [...options.scrubbed, ticketId] });
      else setOptions({ deleted: [...options.deleted, ticketId] });
    },
    restoreTicket(ticketId) {
      mustExist(ticketId);
      if (options.scrubbed.includes(ticketId)) throw new Error(`ticket ${ticketId} was permanently deleted and cannot be restored`);
      setOptions({ deleted: options.deleted.filter((id) => id !== ticketId) });
    },
    renameUser(userId, name) {
      if (userRecord(options.seed, userId) === null) throw new RangeError(`user ${userId} is not one the simulator serves`);
      store.users.rename(userId, name);
    },
    createTicket() {
      setOptions({ tickets: options.tickets + 1 });
      const id = options.tickets;
      store.markChanged(id);
      store.emitChange({ ticketId: id, kind: 'created' });
      return id;
    },
    webhooks: {
      get deliveries() {
        return webhooks.deliveries;
      },
      setFault: (fault) => {
        webhooks.fault = fault;
      },
      replay: (delivery) => webhooks.replay(delivery),
      settled: () => webhooks.settled(),
    },
    setMalformed: (ticketId, kind, options) => store.setMalformed(ticketId, kind, options?.afterEvents ?? 0),
    close() {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        webhooks.close();
        for (const timer of pending) clearTimeout(timer);
        pending.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Every generated event of tickets 1..tickets, made and serialised now (the preload option). */
function preload(store: TicketStore): void {
  for (let id = 1; id <= store.ticketCount; id++) {
    const profile = store.profile(id);
    store.preloaded.fill(id, Array.from({ length: store.baseSize(id) }, (_, index) => generateEvent(profile, index)));
  }
}

function displayHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
