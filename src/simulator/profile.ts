// Everything fixed about one ticket: how many events it starts with, when they happen, which
// channel it came through and its cast of authors. Events draw their authors from this cast, so
// the same people recur across a ticket and agents recur across the account.
import { hexToken } from './ids.ts';
import { hash32, rngFor } from './random.ts';
import type { EventAuthor } from './types.ts';
import { chooseVia, type BaseChannel, type ViaChoice } from './via.ts';

export type Channel = BaseChannel;

export interface TicketProfile {
  ticketId: number;
  seed: number;
  channel: Channel;
  /** Where the end user writes from (Messaging source.type). */
  userSource: string;
  startSec: number;
  stepSec: number;
  endUser: EventAuthor;
  agents: EventAuthor[];
  bot: EventAuthor;
  /** An author the API returns with only display_name and type. */
  stranger: EventAuthor;
  subject: string;
  status: string;
  /** The export's via.channel and what it is derived from. */
  via: ViaChoice;
  /** Handled by an AI agent: hidden from the export's default support_type_scope. */
  aiAgent: boolean;
}

/**
 * Generated histories begin on 2025-06-01 and are spread over the following 180 days, unless the
 * option historyEnd moves them all by one amount (historyShiftSec).
 */
const EPOCH_SEC = Date.UTC(2025, 5, 1) / 1000;
const DEFAULT_AVATAR = 'https://static.zdassets.com/web_widget/latest/default_avatar.png';

const FIRST = ['Ana', 'Ben', 'Chloé', 'Dmitri', 'Emeka', 'Fatima', 'Giulia', 'Hiro', 'Ines', 'Jonas', 'Kavya', 'Liam', 'Mei', 'Noah', 'Olga', 'Pedro', 'Rania', 'Sven', 'Tariq', 'Zoë'];
const LAST = ['Silva', 'Okafor', 'Müller', 'Nakamura', 'García', 'Novak', 'Haddad', 'Kowalski', 'Byrne', 'Lindqvist', 'Rossi', 'Chen', "O'Neil", 'Dubois'];
const SUBJECTS = ['Order never arrived', 'Cannot log in to my account', 'Refund for duplicate charge', 'Question about my invoice', 'App crashes on start', 'Change delivery address', 'Warranty claim for broken charger', 'How do I export my data?', 'Subscription renewal failed', 'Password reset email not received'];
const STATUSES = ['new', 'open', 'open', 'pending', 'hold', 'solved', 'solved', 'closed'];
const USER_SOURCES = ['web', 'messaging', 'ios', 'android', 'whatsapp'];

/**
 * Default event counts: a predictable mix so the demo and tests meet every edge case.
 *   id % 97 == 0 -> 2500 (large);  id % 100 == 3 -> 100, == 4 -> 101, == 7 -> 250;
 *   id % 10 == 2 -> 0 (empty), == 5 -> 1, == 9 -> 7;  otherwise 3..14.
 * Independent of the seed so ticket numbers can be quoted in docs. Averages about 35 events.
 */
export function defaultTicketSize(ticketId: number): number {
  if (ticketId % 97 === 0) return 2500;
  switch (ticketId % 100) {
    case 3: return 100;
    case 4: return 101;
    case 7: return 250;
  }
  switch (ticketId % 10) {
    case 2: return 0;
    case 5: return 1;
    case 9: return 7;
  }
  return 3 + (hash32(ticketId, 0x51e) % 12);
}

export const AGENT_POOL_SIZE = 8;

/** Agents are account-wide: the same people answer many tickets. They carry both ids. */
export function agent(seed: number, n: number): EventAuthor {
  const h = hash32(seed, n, 0xa6e);
  return {
    avatar_url: `https://convlog-sim.zendesk.com/system/photos/${hexToken(h, 12)}/agent_${n}.png`,
    display_name: `${FIRST[h % FIRST.length]} ${LAST[(h >>> 8) % LAST.length]} (Support)`,
    type: 'agent',
    'zen:sunco:user_id': hexToken(hash32(h, 1), 24),
    'zen:support:user_id': 390_000_000_000 + n * 1_009,
  };
}

function bot(seed: number): EventAuthor {
  return {
    avatar_url: DEFAULT_AVATAR,
    display_name: 'Answer Bot',
    type: 'bot',
    'zen:sunco:user_id': hexToken(hash32(seed, 0xb07), 24),
    'zen:support:user_id': -1,
  };
}

/** Every fifth ticket comes from the same person as the ticket before it. */
export const endUserNumber = (ticketId: number) => (ticketId % 5 === 0 && ticketId > 1 ? ticketId - 1 : ticketId);

/** An end user's name, shared by the conversation log and the users API. */
export function personName(seed: number, userNo: number): string {
  const h = hash32(seed, userNo, 0x05e);
  return `${FIRST[h % FIRST.length]} ${LAST[(h >>> 8) % LAST.length]}`;
}

/** Messaging users only have a Sunshine id, email and web users only a Support id. */
function endUser(seed: number, ticketId: number, channel: Channel): EventAuthor {
  const userNo = endUserNumber(ticketId);
  const h = hash32(seed, userNo, 0x05e);
  const name = personName(seed, userNo);
  if (channel === 'messaging') {
    const author: EventAuthor = { display_name: name, type: 'user', 'zen:sunco:user_id': hexToken(hash32(h, 2), 24) };
    return h % 3 === 0 ? { avatar_url: DEFAULT_AVATAR, ...author } : author;
  }
  return { display_name: name, type: 'user', 'zen:support:user_id': 8_300_000_000_000 + userNo * 7 };
}

const channelOf = (roll: number): Channel => (roll < 0.45 ? 'messaging' : roll < 0.85 ? 'email' : 'web');

/**
 * A third of messaging conversations never reach a human: ids divisible by 3, so docs can quote
 * them. Needs only the profile's first draw, so the export can ask it of every ticket cheaply.
 */
export function isAiAgentTicket(seed: number, ticketId: number): boolean {
  return ticketId % 3 === 0 && channelOf(rngFor(seed, ticketId, 0x9f0).next()) === 'messaging';
}

/** `shiftSec` moves the ticket's history (every date derived from startSec) by that many seconds. */
export function ticketProfile(seed: number, ticketId: number, shiftSec = 0): TicketProfile {
  const rng = rngFor(seed, ticketId, 0x9f0);
  const channel = channelOf(rng.next());
  const firstAgent = rng.int(1, AGENT_POOL_SIZE);
  const agents = [agent(seed, firstAgent)];
  if (rng.chance(0.4)) agents.push(agent(seed, (firstAgent % AGENT_POOL_SIZE) + 1));
  const via = chooseVia(seed, ticketId, channel, channel === 'messaging' ? rng.pick(USER_SOURCES) : channel);
  return {
    ticketId,
    seed,
    channel,
    userSource: via.userSource,
    via,
    aiAgent: isAiAgentTicket(seed, ticketId),
    startSec: EPOCH_SEC + shiftSec + rng.int(0, 180 * 86_400),
    stepSec: rng.int(20, 240),
    endUser: endUser(seed, ticketId, channel),
    agents,
    bot: bot(seed),
    stranger: { display_name: rng.pick(['Unknown caller', 'Guest', 'Former employee']), type: rng.pick(['user', 'agent']) },
    subject: rng.pick(SUBJECTS),
    status: rng.pick(STATUSES),
  };
}

/** created_at of the index-th generated event: strictly increasing, irregular gaps. */
export function eventTimeSec(profile: TicketProfile, index: number): number {
  const jitter = hash32(profile.seed, profile.ticketId, index, 0x717) % profile.stepSec;
  return profile.startSec + index * profile.stepSec + jitter;
}

/** created_at (seconds) of the ticket's last generated event, or its start when it has none. */
export function lastEventSec(profile: TicketProfile, size: number): number {
  return size > 0 ? eventTimeSec(profile, size - 1) : profile.startSec;
}

/**
 * Where the unmoved histories of tickets 1..tickets end: the latest created_at (seconds) of their
 * generated events, or of a ticket's start when it has none. One profile per ticket: about 2.5 s
 * for a million tickets.
 */
export function naturalHistoryEndSec(seed: number, tickets: number, ticketSizes: Readonly<Record<number, number>> = {}): number {
  let end = -Infinity;
  for (let id = 1; id <= tickets; id++) end = Math.max(end, lastEventSec(ticketProfile(seed, id), ticketSizes[id] ?? defaultTicketSize(id)));
  return end;
}

/**
 * How far historyEnd moves every generated date: whole seconds, so that the latest event of
 * tickets 1..tickets is created in the second before historyEnd (its received_at, with
 * milliseconds, is still before it). 0 without historyEnd.
 */
export function historyShiftSec(options: { seed: number; tickets: number; ticketSizes: Readonly<Record<number, number>>; historyEnd: string | Date }): number {
  if (options.historyEnd === '') return 0;
  const endSec = Math.floor(new Date(options.historyEnd).getTime() / 1000);
  const shift = endSec - 1 - naturalHistoryEndSec(options.seed, options.tickets, options.ticketSizes);
  if (EPOCH_SEC + shift < 0) {
    throw new Error(`Invalid simulator options: historyEnd ${new Date(endSec * 1000).toISOString()} is too early: these tickets' histories would begin before 1970`);
  }
  return shift;
}
