// How a ticket reached Zendesk: the export's `via` object ({channel, source: {from, to, rel}}).
// The channel follows the kind of conversation log the ticket has: comment tickets come through
// email, the web form, the API, phone, legacy chat and social posts; messaging tickets through the
// web widget, the mobile SDKs and the social messaging apps, whose Sunshine source type is what
// the end user's messages carry in the log.
import { rngFor } from './random.ts';
import type { Rng } from './random.ts';

export type BaseChannel = 'email' | 'messaging' | 'web';

/** Every channel the simulator serves, by how the ticket's log looks. */
export const COMMENT_CHANNELS = ['email', 'api', 'voice', 'chat', 'twitter', 'facebook', 'sms', 'web', 'mobile_sdk', 'mobile'] as const;
export const MESSAGING_CHANNELS = [
  'native_messaging', 'whatsapp', 'instagram_dm', 'facebook_messenger', 'line', 'wechat', 'telegram', 'twitter_dm', 'viber', 'sms_messaging',
  'apple_business_chat', 'google_rcs', 'kakao',
] as const;

/** Zendesk's via.channel value, and the Sunshine source type of the end user's messages. */
const SOCIAL: Record<string, { channel: string; source: string }> = {
  whatsapp: { channel: 'whatsapp', source: 'whatsapp' },
  instagram_dm: { channel: 'instagram_dm', source: 'instagram' },
  facebook_messenger: { channel: 'facebook', source: 'messenger' },
  line: { channel: 'line', source: 'line' },
  wechat: { channel: 'wechat', source: 'wechat' },
  telegram: { channel: 'telegram', source: 'telegram' },
  twitter_dm: { channel: 'twitter', source: 'twitter' },
  viber: { channel: 'viber', source: 'viber' },
  sms_messaging: { channel: 'sms', source: 'twilio' },
  apple_business_chat: { channel: 'apple_business_chat', source: 'apple' },
  google_rcs: { channel: 'google_rcs', source: 'googlercs' },
  kakao: { channel: 'kakao', source: 'kakao' },
};

export interface ViaChoice {
  /** via.channel as served. */
  channel: string;
  /** Which of the lists above it came from (twitter and facebook appear in both). */
  kind: string;
  /** Sunshine source type of the end user's messages (messaging tickets only). */
  userSource: string;
}

/**
 * Chosen from its own random stream, so the rest of the ticket (events, times, authors) stays as
 * it was before tickets had a channel. `userSource` is the one the log already drew, kept for the
 * web widget and the mobile SDKs (web, ios, android) and replaced for the social apps.
 */
export function chooseVia(seed: number, ticketId: number, base: BaseChannel, userSource: string): ViaChoice {
  const rng = rngFor(seed, ticketId, 0x71a);
  if (base === 'email') {
    const kind = weighted(rng, [['email', 62], ['api', 10], ['voice', 8], ['chat', 8], ['twitter', 4], ['facebook', 4], ['sms', 4]]);
    return { channel: kind, kind, userSource };
  }
  if (base === 'web') {
    const kind = weighted(rng, [['web', 75], ['mobile_sdk', 15], ['mobile', 10]]);
    return { channel: kind, kind, userSource };
  }
  if (userSource === 'whatsapp') return { channel: 'whatsapp', kind: 'whatsapp', userSource };
  if (userSource !== 'messaging') return { channel: 'native_messaging', kind: 'native_messaging', userSource };
  const kind = rng.pick(Object.keys(SOCIAL).filter((k) => k !== 'whatsapp'));
  return { channel: SOCIAL[kind].channel, kind, userSource: SOCIAL[kind].source };
}

function weighted(rng: Rng, table: [string, number][]): string {
  let roll = rng.next() * table.reduce((sum, [, weight]) => sum + weight, 0);
  for (const [value, weight] of table) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return table[table.length - 1][0];
}

export interface ViaParties {
  requesterName: string;
  requesterEmail: string;
  brandName: string;
  brandSubdomain: string;
  phone: string;
}

/** The `via` object with the `source` shape Zendesk gives each channel. */
export function viaObject(choice: ViaChoice, parties: ViaParties): { channel: string; source: { from: Record<string, unknown>; to: Record<string, unknown>; rel: string | null } } {
  const support = { name: parties.brandName, address: `support@${parties.brandSubdomain}.zendesk.com` };
  const source = (from: Record<string, unknown>, to: Record<string, unknown>, rel: string | null = null) => ({ channel: choice.channel, source: { from, to, rel } });
  switch (choice.kind) {
    case 'email':
      return source({ address: parties.requesterEmail, name: parties.requesterName }, support);
    case 'voice':
      return source({ phone: parties.phone, formatted_phone: parties.phone, name: parties.requesterName }, { phone: '+18005550100', formatted_phone: '+1 (800) 555-0100' }, 'inbound');
    case 'sms':
      return source({ phone: parties.phone, name: parties.requesterName }, { phone: '+18005550101' }, 'sms');
    case 'twitter':
      return source({ name: parties.requesterName, profile_url: `https://x.com/user${parties.phone.slice(-4)}` }, { name: parties.brandName }, 'mention');
    case 'facebook':
      return source({ name: parties.requesterName, facebook_id: parties.phone.slice(-8) }, { name: parties.brandName }, 'post');
    case 'chat':
      return source({}, {}, 'chat');
    case 'api':
    case 'web':
    case 'mobile':
    case 'mobile_sdk':
      return source({}, {});
    default:
      // Messaging: Zendesk leaves the parties out; the conversation has them.
      return source({}, {}, choice.kind === 'native_messaging' ? null : choice.channel);
  }
}
