// The event factory: event `index` of a ticket is a pure function of (seed, ticket, index), so a
// page of a 50,000-event ticket costs the same as a page of a small one.
//
// Predictable oddities (for tests of the sync's tolerance), with their ticket ids:
//   id % 11 == 0, index 1: an event type no reference lists (Voice::CallRecording when the id is
//                          even, Messaging::ConversationStatusChange when odd)
//   id % 13 == 0, index 2: a messaging event whose content type ("audio") no reference lists
//   id % 17 == 0, every index divisible by 100 (so index 0): text with a NUL and an unpaired
//                          surrogate ("\u0000", "\ud83d")
// Besides these, about 3% of events have an author with only display_name and type.
import { makeAttachments } from './attachments.ts';
import { commentContent, messagingContent, unlistedContent, type Content, type MessagingKind, type Role } from './content.ts';
import { isoMillis, isoSeconds, suncoMessageId, ticketEventNumber, ulidLike } from './ids.ts';
import { eventTimeSec, type TicketProfile } from './profile.ts';
import { hash32, rngFor, type Rng } from './random.ts';
import type { ConversationEvent, EventAuthor } from './types.ts';

const LOCATIONS = [
  { location: 'Sydney, NSW, Australia', latitude: -33.8688, longitude: 151.2093 },
  { location: 'Berlin, BE, Germany', latitude: 52.52, longitude: 13.405 },
  { location: 'São Paulo, SP, Brazil', latitude: -23.5505, longitude: -46.6333 },
  { location: 'Austin, TX, United States', latitude: 30.2672, longitude: -97.7431 },
];
const CLIENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
];

interface Draft {
  index: number;
  timeMs: number;
  rng: Rng;
  profile: TicketProfile;
}

export function generateEvent(profile: TicketProfile, index: number, timeSec: number = eventTimeSec(profile, index)): ConversationEvent {
  const { seed, ticketId } = profile;
  const rng = rngFor(seed, ticketId, index, 0xe7e);
  const draft: Draft = { index, timeMs: timeSec * 1000 + rng.int(0, 999), rng, profile };
  const hostile = ticketId % 17 === 0 && index % 100 === 0;

  if (ticketId % 11 === 0 && index === 1) return ticketId % 2 === 0 ? callRecording(draft) : statusChange(draft);
  if (ticketId % 13 === 0 && index === 2) return message(draft, profile.endUser, 'user', unlistedContent(rng));

  const role = pickRole(draft);
  const author = rng.chance(0.03) ? profile.stranger : authorFor(rng, profile, role);
  const isMessaging = profile.channel === 'messaging' && (index === 0 || rng.chance(0.88));
  if (!isMessaging) return comment(draft, author, role, hostile);
  const kind: MessagingKind = index === 0 && !hostile ? 'textActions' : pickKind(rng, role);
  return message(draft, author, role, messagingContent(rng, role, hostile ? 'text' : kind, hostile));
}

function pickRole({ index, rng, profile }: Draft): Role {
  if (index === 0) return profile.channel === 'messaging' ? 'bot' : 'user';
  const r = rng.next();
  if (profile.channel === 'messaging') return r < 0.45 ? 'user' : r < 0.62 ? 'bot' : 'agent';
  return r < 0.45 ? 'user' : 'agent';
}

function authorFor(rng: Rng, profile: TicketProfile, role: Role): EventAuthor {
  if (role === 'bot') return profile.bot;
  if (role === 'agent') return rng.pick(profile.agents);
  return profile.endUser;
}

function pickKind(rng: Rng, role: Role): MessagingKind {
  const r = rng.next();
  if (role === 'bot') return r < 0.35 ? 'textActions' : r < 0.65 ? 'text' : r < 0.85 ? 'carousel' : 'form';
  if (role === 'agent') return r < 0.85 ? 'text' : r < 0.9 ? 'image' : 'file';
  return r < 0.68 ? 'text' : r < 0.78 ? 'image' : r < 0.84 ? 'file' : r < 0.92 ? 'formResponse' : 'location';
}

function versionOf(index: number): number {
  return Math.min(Math.floor(index / 2), 30);
}

function common(draft: Draft) {
  const { profile, index, timeMs, rng } = draft;
  return {
    created_at: isoSeconds(Math.floor(timeMs / 1000)),
    id: ulidLike(timeMs, profile.ticketId, index, rng.int(0, 0xffff)),
  };
}

function systemMetadata(rng: Rng, role: Role, channel: string): Record<string, unknown> {
  const fromBrowser = channel === 'web' ? role === 'user' || rng.chance(0.3) : rng.chance(role === 'user' ? 0.3 : 0.1);
  if (!fromBrowser) return {};
  const ip = `${rng.int(11, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
  if (role !== 'user') return { client: rng.pick(CLIENTS), ip_address: ip };
  const place = rng.pick(LOCATIONS);
  return { client: rng.pick(CLIENTS), ip_address: ip, latitude: place.latitude, location: place.location, longitude: place.longitude };
}

function comment(draft: Draft, author: EventAuthor, role: Role, hostile: boolean): ConversationEvent {
  const { profile, index, rng } = draft;
  // Agents write internal notes; messaging tickets get a private transcript comment from the user.
  const isPublic = role === 'agent' ? rng.chance(0.7) : profile.channel !== 'messaging';
  const base = common(draft);
  const attachments = rng.chance(role === 'user' ? 0.22 : 0.12) ? makeAttachments(rng, profile.ticketId, index) : [];
  return {
    attachments,
    author,
    content: commentContent(rng, role, hostile),
    created_at: base.created_at,
    id: base.id,
    metadata: { custom: {}, public: isPublic, system: systemMetadata(rng, role, profile.channel), ticket_version: versionOf(index) },
    reference: `zen:ticket_event:${ticketEventNumber(profile.ticketId, index)}`,
    type: 'Comment',
  };
}

function sourceType(profile: TicketProfile, role: Role): string {
  if (role === 'bot') return 'zd:answerBot';
  if (role === 'agent') return 'zd:agentWorkspace';
  return profile.userSource;
}

function message(draft: Draft, author: EventAuthor, role: Role, content: Content): ConversationEvent {
  const { profile, index, timeMs } = draft;
  const base = common(draft);
  return {
    attachments: [],
    author,
    content,
    created_at: base.created_at,
    id: base.id,
    metadata: { custom: {}, system: {}, ticket_version: versionOf(index) },
    received_at: isoMillis(timeMs),
    reference: `zen:sunco:conversation_message:${suncoMessageId(Math.floor(timeMs / 1000), profile.ticketId, index)}`,
    source: { type: sourceType(profile, role) },
    type: 'Messaging::ConversationMessage',
  };
}

function callRecording(draft: Draft): ConversationEvent {
  const { profile, index, rng } = draft;
  const base = common(draft);
  return {
    attachments: [],
    author: profile.agents[0],
    content: {
      duration: rng.int(30, 1800),
      from: `+1415555${String(rng.int(0, 9999)).padStart(4, '0')}`,
      recording_url: `https://convlog-sim.zendesk.com/api/v2/channels/voice/calls/CA${hash32(profile.ticketId, index).toString(16)}/twilio/recording`,
      to: '+18005550100',
      transcription_text: 'Caller asked about a late delivery.',
      type: 'voice_recording',
    },
    created_at: base.created_at,
    id: base.id,
    metadata: { custom: {}, public: false, system: {}, ticket_version: versionOf(index) },
    reference: `zen:ticket_event:${ticketEventNumber(profile.ticketId, index)}`,
    type: 'Voice::CallRecording',
  };
}

function statusChange(draft: Draft): ConversationEvent {
  const { profile, index, timeMs, rng } = draft;
  const base = common(draft);
  return {
    attachments: [],
    author: profile.bot,
    content: { status: rng.pick(['transferred_to_agent', 'closed', 'reopened']), type: 'status' },
    created_at: base.created_at,
    id: base.id,
    metadata: { custom: {}, system: {}, ticket_version: versionOf(index) },
    received_at: isoMillis(timeMs),
    reference: `zen:ticket_event:${ticketEventNumber(profile.ticketId, index)}`,
    source: { type: 'zd:answerBot' },
    type: 'Messaging::ConversationStatusChange',
  };
}
