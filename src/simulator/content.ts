// Message bodies: html comments and the Sunshine Conversations content types that messaging
// events carry. Shapes follow the examples of Zendesk's reference page (test/fixtures/) and the Sunshine message types.
import { hexToken } from './ids.ts';
import type { Rng } from './random.ts';

export type Role = 'user' | 'agent' | 'bot';

export type MessagingKind = 'text' | 'textActions' | 'image' | 'file' | 'carousel' | 'form' | 'formResponse' | 'location';

export type Content = { type: string; [field: string]: unknown };

/** A NUL and a lone high surrogate: Postgres rejects both, so the sync has to clean them. */
const HOSTILE_TEXT = 'Copied from the old portal:\u0000 status ok \ud83d see log';

const MEDIA = 'https://convlog-sim.zendesk.com/sc/attachments/v2';

const LINES: Record<Role, string[]> = {
  user: [
    'Hi, my order #{n} still has not arrived.',
    'I was charged twice this month, can you check?',
    'The app closes as soon as I open it 😕',
    "I can't log in, the reset link says it expired.",
    'Thanks, that worked!',
    'Any update on this?',
    'Here is the screenshot you asked for.',
    'Ça ne marche toujours pas.',
    'Can I change the delivery address to my office?',
    'I would like a refund please.',
  ],
  agent: [
    'Thanks for reaching out! Let me look into this for you.',
    'I have issued a refund of ${n}.00, it should show in 3–5 days.',
    'Could you send me a screenshot of the error?',
    'I escalated this to our engineering team (ref {n}).',
    'Your new tracking number is ZX{n}.',
    'Is there anything else I can help you with?',
    'Internal: customer is on the legacy plan, check billing first.',
  ],
  bot: [
    "Hey! Have a question? I'm here to assist.",
    'I found these articles that might help.',
    'Let me connect you with a human agent.',
    'Was this answer helpful?',
    'Our team typically replies in a few minutes.',
  ],
};

export function line(rng: Rng, role: Role): string {
  return rng.pick(LINES[role]).replace('{n}', String(rng.int(1000, 99999)));
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Zendesk wraps every comment in a zd-comment div; longer ones have paragraphs and links. */
export function commentContent(rng: Rng, role: Role, hostile: boolean): Content {
  const paragraphs = hostile ? [HOSTILE_TEXT] : Array.from({ length: rng.int(1, 3) }, () => line(rng, role));
  let inner = paragraphs.map((p) => `<p dir="auto">${escapeHtml(p)}</p>`).join('\n\n');
  if (!hostile && rng.chance(0.15)) inner += '\n\n<p dir="auto"><a href="https://help.example.com/articles/42" rel="noreferrer">See this article</a></p>';
  if (!hostile && rng.chance(0.1)) inner += '<br><ul><li>first step</li><li>second &amp; last step</li></ul>';
  return { body: `<div class="zd-comment" dir="auto">${inner}</div>`, type: 'html' };
}

/**
 * A comment's text as Zendesk's ticket `description` copies the first comment: its paragraphs,
 * tags dropped, entities decoded. Close to what convlog makes of the HTML for paragraphs, but
 * not the same for lists, as Zendesk's own text need not be.
 */
export function commentText(body: string): string {
  return body
    .replace(/<li[^>]*>/g, '\n* ')
    .replace(/<\/p>/g, '\n\n')
    .replace(/<br\s*\/?>/g, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n\s*\n\s*(?=\S)/g, '\n\n')
    .trim();
}

function replyAction(rng: Rng, text: string) {
  return { reply: { payload: `goto_node=${hexToken(rng.int(0, 2 ** 31), 26).toUpperCase()}`, text } };
}

export function messagingContent(rng: Rng, role: Role, kind: MessagingKind, hostile: boolean): Content {
  switch (kind) {
    case 'text':
      return { text: hostile ? HOSTILE_TEXT : line(rng, role), type: 'text' };
    case 'textActions':
      return {
        actions: [replyAction(rng, 'Talk to a human'), replyAction(rng, 'Track my order'), ...(rng.chance(0.5) ? [replyAction(rng, 'Something else')] : [])],
        text: hostile ? HOSTILE_TEXT : line(rng, 'bot'),
        type: 'text',
      };
    case 'image': {
      const name = `${hexToken(rng.int(0, 2 ** 31), 10)}.jpg`;
      return { altText: rng.pick(['screenshot', 'photo of the parcel', '']), mediaSize: rng.int(20_000, 2_000_000), mediaType: 'image/jpeg', mediaUrl: `${MEDIA}/${hexToken(rng.int(0, 2 ** 31), 24)}/${name}`, type: 'image' };
    }
    case 'file': {
      const name = rng.pick(['invoice.pdf', 'logs.txt', 'receipt.pdf', 'export.csv']);
      return { altText: name, mediaSize: rng.int(1_000, 900_000), mediaType: name.endsWith('pdf') ? 'application/pdf' : 'text/plain', mediaUrl: `${MEDIA}/${hexToken(rng.int(0, 2 ** 31), 24)}/${name}`, text: name, type: 'file' };
    }
    case 'carousel':
      return {
        items: Array.from({ length: rng.int(2, 4) }, (_, i) => ({
          actions: [{ link: { text: 'Read more', uri: `https://help.example.com/articles/${100 + i}` } }, ...(i === 0 ? [{ postback: { payload: `article_${i}`, text: 'This helped' } }] : [])],
          description: rng.pick(['Step-by-step guide.', 'Most asked question this week.', '']),
          ...(rng.chance(0.5) ? { mediaUrl: `${MEDIA}/${hexToken(rng.int(0, 2 ** 31), 24)}/card.png` } : {}),
          title: rng.pick(['Where is my order?', 'Refund policy', 'Reset your password', 'Shipping times']),
        })),
        type: 'carousel',
      };
    case 'form':
      return {
        fields: [
          { label: 'Your email', name: 'email', type: 'email' },
          { label: 'Order number', name: 'order_number', type: 'text' },
          { label: 'Topic', name: 'topic', options: [{ label: 'Billing', name: 'billing' }, { label: 'Shipping', name: 'shipping' }], type: 'select' },
        ],
        type: 'form',
      };
    case 'formResponse':
      return {
        fields: [
          { email: `user${rng.int(1, 9999)}@example.com`, label: 'Your email', name: 'email', text: 'provided', type: 'email' },
          { label: 'Order number', name: 'order_number', text: String(rng.int(100000, 999999)), type: 'text' },
          { label: 'Topic', name: 'topic', select: [{ label: 'Shipping', name: 'shipping' }], text: 'Shipping', type: 'select' },
        ],
        quotedMessage: { type: 'message' },
        type: 'formResponse',
      };
    case 'location':
      return {
        coordinates: { lat: rng.int(-60_000, 60_000) / 1000, long: rng.int(-170_000, 170_000) / 1000 },
        location: { address: rng.pick(['1 Market St, San Francisco, CA', '10 Downing St, London', 'Karl-Johans gate 1, Oslo']), name: rng.pick(['Home', 'Office', 'Pickup point']) },
        type: 'location',
      };
  }
}

/** A content type no published reference lists, to prove unknown shapes are stored, not dropped. */
export function unlistedContent(rng: Rng): Content {
  return { duration: rng.int(2, 90) + 0.5, mediaType: 'audio/ogg', mediaUrl: `${MEDIA}/${hexToken(rng.int(0, 2 ** 31), 24)}/voice.ogg`, transcript: null, type: 'audio' };
}
