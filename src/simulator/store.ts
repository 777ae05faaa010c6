// The account's state. Generated events are never stored: only what tests change at runtime
// (appended events, edited events, change times, fault flags) is kept, keyed by ticket.
import { generateEvent } from './generate.ts';
import { ticketEventNumber } from './ids.ts';
import { accountNow, type ResolvedOptions } from './options.ts';
import { defaultTicketSize, historyShiftSec, isAiAgentTicket, lastEventSec, ticketProfile, type TicketProfile } from './profile.ts';
import { PreloadedEvents } from './preloaded.ts';
import { hash32 } from './random.ts';
import { UserChanges } from './sideloads.ts';
import { firstCommentText, patchProblem, scrub, ticketRecord } from './ticket-record.ts';
import type { ConversationEvent, ExportTicket, MalformedKind, TicketPatch } from './types.ts';

/** A change a webhook subscription can report. */
export type TicketChange =
  | { ticketId: number; kind: 'comment_added' | 'comment_redacted' | 'attachment_redacted_from_comment'; event: ConversationEvent }
  | { ticketId: number; kind: 'status_changed' | 'field_changed'; field: keyof TicketPatch; previous: unknown; current: unknown }
  | { ticketId: number; kind: 'created' | 'soft_deleted' | 'permanently_deleted' | 'undeleted' };

const THIRTY_DAYS = 30 * 86_400;
const PROFILE_CACHE_LIMIT = 10_000;

interface Change {
  generatedSec: number;
  /** Null for a silent system update: generated_timestamp moves, updated_at does not. */
  updatedSec: number | null;
  /** Position in the order of changes; lets an export cursor notice changes made after it. */
  seq: number;
}

export class TicketStore {
  readonly startedSec: number;
  readonly preloaded = new PreloadedEvents();
  readonly users = new UserChanges(() => accountNow(this.#options()));
  #options: () => ResolvedOptions;
  #profiles = new Map<number, TicketProfile>();
  #appended = new Map<number, ConversationEvent[]>();
  #edits = new Map<number, Map<number, ConversationEvent>>();
  #changes = new Map<number, Change>();
  #malformed = new Map<number, { kind: MalformedKind; afterEvents: number }>();
  #patches = new Map<number, TicketPatch>();
  #listeners: ((change: TicketChange) => void)[] = [];
  #changeSeq = 0;
  #version = 0;
  /** Where historyEnd puts the histories; computed once per seed and historyEnd. */
  #history: { shiftSec: number; anchorSec: number | null } | undefined;

  constructor(options: () => ResolvedOptions, startedSec: number) {
    this.#options = options;
    this.startedSec = startedSec;
  }

  get options(): ResolvedOptions {
    return this.#options();
  }

  get ticketCount(): number {
    return this.#options().tickets;
  }

  /** Drops cached profiles; call after the seed or historyEnd changes. */
  invalidate(): void {
    this.#profiles.clear();
    this.preloaded.clear();
    this.users.clear();
    this.#history = undefined;
    this.#version++;
  }

  /**
   * How far every generated date is moved (0 without historyEnd). Computed from the tickets and
   * ticket sizes of the moment it is first needed (the start, or a change of seed or
   * historyEnd), and kept when they change later, so served dates never move under a client.
   */
  get shiftSec(): number {
    return this.#timeline().shiftSec;
  }

  #timeline(): { shiftSec: number; anchorSec: number | null } {
    if (!this.#history) {
      const options = this.#options();
      const anchorSec = options.historyEnd === '' ? null : Math.floor(new Date(options.historyEnd).getTime() / 1000);
      this.#history = { shiftSec: historyShiftSec(options), anchorSec };
    }
    return this.#history;
  }

  /** Grows with every change to what a page holds (events, edits, faults, the seed). */
  get version(): number {
    return this.#version;
  }

  exists(ticketId: number): boolean {
    return Number.isInteger(ticketId) && ticketId >= 1 && ticketId <= this.ticketCount;
  }

  profile(ticketId: number): TicketProfile {
    let profile = this.#profiles.get(ticketId);
    if (!profile) {
      if (this.#profiles.size >= PROFILE_CACHE_LIMIT) this.#profiles.clear();
      profile = ticketProfile(this.#options().seed, ticketId, this.shiftSec);
      this.#profiles.set(ticketId, profile);
    }
    return profile;
  }

  baseSize(ticketId: number): number {
    return this.#options().ticketSizes[ticketId] ?? defaultTicketSize(ticketId);
  }

  eventCount(ticketId: number): number {
    return this.baseSize(ticketId) + (this.#appended.get(ticketId)?.length ?? 0);
  }

  /** The event as served. Callers must not mutate it. */
  eventAt(ticketId: number, index: number): ConversationEvent {
    const base = this.baseSize(ticketId);
    if (index >= base) {
      const event = this.#appended.get(ticketId)?.[index - base];
      if (!event) throw new RangeError(`ticket ${ticketId} has no event ${index}`);
      return event;
    }
    return this.#edits.get(ticketId)?.get(index) ?? this.preloaded.at(ticketId, index) ?? generateEvent(this.profile(ticketId), index);
  }

  events(ticketId: number): ConversationEvent[] {
    this.#mustExist(ticketId);
    const count = this.eventCount(ticketId);
    const out: ConversationEvent[] = new Array(count);
    for (let i = 0; i < count; i++) out[i] = this.eventAt(ticketId, i);
    return structuredClone(out);
  }

  append(ticketId: number, count: number): ConversationEvent[] {
    this.#mustExist(ticketId);
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`appendEvents needs a whole number of events (got ${count})`);
    const list = this.#appended.get(ticketId) ?? [];
    this.#appended.set(ticketId, list);
    const created: ConversationEvent[] = [];
    for (let n = 0; n < count; n++) {
      const index = this.eventCount(ticketId);
      const lastSec = index > 0 ? Date.parse(this.eventAt(ticketId, index - 1).created_at) / 1000 : 0;
      // "Now", but always after the newest event so created_at keeps strictly increasing.
      const event = generateEvent(this.profile(ticketId), index, Math.max(Math.floor(accountNow(this.#options()) / 1000), lastSec + 1));
      list.push(event);
      created.push(event);
    }
    if (count > 0) {
      this.markChanged(ticketId);
      for (const event of created) this.#emit({ ticketId, kind: 'comment_added', event });
    }
    return structuredClone(created);
  }

  edit(ticketId: number, reference: string, edit: (event: ConversationEvent) => void): void {
    this.#mustExist(ticketId);
    const index = this.#indexOf(ticketId, reference);
    if (index < 0) throw new Error(`ticket ${ticketId} has no event with reference ${reference}`);
    const copy = structuredClone(this.eventAt(ticketId, index));
    const before = JSON.stringify(copy.content);
    const filesBefore = JSON.stringify(copy.attachments);
    edit(copy);
    const base = this.baseSize(ticketId);
    if (index >= base) this.#appended.get(ticketId)![index - base] = copy;
    else {
      const edits = this.#edits.get(ticketId) ?? new Map<number, ConversationEvent>();
      edits.set(index, copy);
      this.#edits.set(ticketId, edits);
    }
    this.markChanged(ticketId);
    // An edit that changes what was written is a redaction; one that changes only the files is
    // Zendesk's attachment redaction (the file dropped, or replaced by an empty redacted.txt).
    if (JSON.stringify(copy.content) !== before) this.#emit({ ticketId, kind: 'comment_redacted', event: structuredClone(copy) });
    else if (JSON.stringify(copy.attachments) !== filesBefore) this.#emit({ ticketId, kind: 'attachment_redacted_from_comment', event: structuredClone(copy) });
  }

  /** References are built from the index, so try the index they encode before scanning. */
  #indexOf(ticketId: number, reference: string): number {
    const count = this.eventCount(ticketId);
    const guesses: number[] = [];
    const numeric = /^zen:ticket_event:(\d+)$/.exec(reference);
    if (numeric) guesses.push(Number(numeric[1]) - ticketEventNumber(ticketId, 0));
    const sunco = /^zen:sunco:conversation_message:[0-9a-f]{16}([0-9a-f]{8})$/.exec(reference);
    if (sunco) guesses.push(parseInt(sunco[1], 16));
    for (const guess of guesses) {
      if (guess >= 0 && guess < count && this.eventAt(ticketId, guess).reference === reference) return guess;
    }
    for (let i = 0; i < count; i++) if (this.eventAt(ticketId, i).reference === reference) return i;
    return -1;
  }

  /** Moves generated_timestamp (and, unless silent, updated_at) to now. */
  markChanged(ticketId: number, options: { silent?: boolean } = {}): void {
    this.#mustExist(ticketId);
    const now = Math.floor(accountNow(this.#options()) / 1000);
    const previous = this.#changes.get(ticketId);
    const updatedSec = options.silent ? (previous?.updatedSec ?? null) : now;
    this.#changes.set(ticketId, { generatedSec: now, updatedSec, seq: ++this.#changeSeq });
    this.#version++;
  }

  /** Changes ticket fields as an agent or trigger would; a status change is reported to listeners. */
  updateTicket(ticketId: number, patch: TicketPatch): void {
    this.#mustExist(ticketId);
    const problem = patchProblem(patch);
    if (problem) throw new RangeError(`updateTicket(${ticketId}): ${problem}`);
    const before = this.exportTicket(ticketId);
    this.#patches.set(ticketId, { ...this.#patches.get(ticketId), ...structuredClone(patch) });
    this.markChanged(ticketId);
    const after = this.exportTicket(ticketId);
    for (const field of Object.keys(patch) as (keyof TicketPatch)[]) {
      if (JSON.stringify(before[field]) === JSON.stringify(after[field])) continue;
      this.#emit({ ticketId, kind: field === 'status' ? 'status_changed' : 'field_changed', field, previous: before[field], current: after[field] });
    }
  }

  /** Called with every change a webhook could report. */
  onChange(listener: (change: TicketChange) => void): void {
    this.#listeners.push(listener);
  }

  emitChange(change: TicketChange): void {
    this.#emit(change);
  }

  #emit(change: TicketChange): void {
    for (const listener of this.#listeners) listener(change);
  }

  get changeSeq(): number {
    return this.#changeSeq;
  }

  /** Sequence number of the ticket's last runtime change (0 = never changed). */
  changeSeqOf(ticketId: number): number {
    return this.#changes.get(ticketId)?.seq ?? 0;
  }

  /** The export's order key, cheap enough to compute for every ticket on every export request. */
  generatedSec(ticketId: number): number {
    return this.#changes.get(ticketId)?.generatedSec ?? this.#initialTimes(ticketId).generated;
  }

  #initialTimes(ticketId: number): { generated: number; updated: number } {
    const h = hash32(this.#options().seed, ticketId, 0x675);
    const { anchorSec } = this.#timeline();
    // Spread over the 30 days before start (before historyEnd, when set); a quarter were touched
    // by a silent system update, so their generated_timestamp is later than updated_at.
    const generated = (anchorSec ?? this.startedSec) - THIRTY_DAYS + (h % (THIRTY_DAYS - 120));
    const updated = generated - (h % 4 === 0 ? h % 3600 : 0);
    if (anchorSec === null) return { generated, updated };
    // Histories that end at historyEnd reach into those 30 days: a ticket was updated no earlier
    // than its last generated event (as a comment updates it), and still not after historyEnd.
    const last = lastEventSec(this.profile(ticketId), this.baseSize(ticketId));
    return { generated: Math.max(generated, last), updated: Math.max(updated, last) };
  }

  exportTicket(ticketId: number): ExportTicket {
    const profile = this.profile(ticketId);
    const change = this.#changes.get(ticketId);
    const initial = this.#initialTimes(ticketId);
    const generated = change?.generatedSec ?? initial.generated;
    const updated = change?.updatedSec ?? initial.updated;
    const ticket = ticketRecord(profile, { createdSec: Math.min(profile.startSec, updated), updatedSec: updated, generatedSec: generated });
    const description = firstCommentText(this.eventCount(ticketId) > 0 ? this.eventAt(ticketId, 0) : undefined);
    if (description !== undefined) ticket.description = description;
    Object.assign(ticket, structuredClone(this.#patches.get(ticketId) ?? {}));
    const { deleted, scrubbed } = this.#options();
    if (scrubbed.includes(ticketId)) return scrub(ticket);
    if (deleted.includes(ticketId)) ticket.status = 'deleted';
    return ticket;
  }

  /** Whether the ticket is handled by an AI agent (support_type_scope ai_agent). */
  isAiAgentTicket(ticketId: number): boolean {
    return isAiAgentTicket(this.#options().seed, ticketId);
  }

  /** How a page is broken, if it is: `lastIndex` is the index of the newest event it holds. */
  malformed(ticketId: number, lastIndex = Infinity): MalformedKind | undefined {
    const entry = this.#malformed.get(ticketId);
    return entry && (entry.afterEvents === 0 || lastIndex >= entry.afterEvents) ? entry.kind : undefined;
  }

  /** Breaks the pages holding events past the first `afterEvents` (0: every page). */
  setMalformed(ticketId: number, kind: MalformedKind | null, afterEvents = 0): void {
    if (kind === null) this.#malformed.delete(ticketId);
    else this.#malformed.set(ticketId, { kind, afterEvents });
    this.#version++;
  }

  #mustExist(ticketId: number): void {
    if (!this.exists(ticketId)) throw new RangeError(`ticket ${ticketId} does not exist (the simulator serves tickets 1..${this.ticketCount})`);
  }
}
