// `body_text` is what analysts search and count words in, so every content shape that
// carries words gets one readable string. Comments come as HTML; messaging content follows
// the Sunshine Conversations message types. The full content stays in `content` and `raw`,
// so this only has to be readable, not lossless.
import { compile } from 'html-to-text';
import { isRecord, nonBlank, string } from './fields.ts';
import type { Json } from './fields.ts';
import { sanitizeString } from './sanitize.ts';

// Compiled once: building the selector tree costs far more than converting one comment.
const htmlToText = compile({
  wordwrap: false,
  formatters: {
    // By default cells are inline and run together ("Order12"); a collapsible space keeps
    // their words apart without the column padding of the `dataTable` format, which bloats
    // the layout tables of email signatures.
    spacedCell(elem, walk, builder) {
      walk(elem.children, builder);
      builder.addInline(' ');
    },
  },
  selectors: [
    // Link targets and image sources are noise in prose; the HTML keeps them.
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'tr', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'td', format: 'spacedCell' },
    { selector: 'th', format: 'spacedCell' },
    // Uppercased headings would change the words analysts search for.
    ...(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'] as const).map((selector) => ({ selector, options: { uppercase: false } })),
  ],
});

/** Plain text of an event's content, or null when the shape carries no words. Never throws. */
export function plainText(content: unknown): string | null {
  if (!isRecord(content)) return null;
  let text: string | null;
  try {
    text = extract(content);
  } catch {
    // html-to-text on hostile markup, or a getter in hand-built input: a missing body_text
    // is better than a failed page.
    text = null;
  }
  if (text === null || text.trim() === '') return null;
  return sanitizeString(text);
}

function extract(content: Json): string | null {
  switch (content.type) {
    case 'html':
      return html(content.body);
    case 'text':
      // Reply buttons and their payloads stay in `content`; they are not what was said.
      return string(content.text) ?? html(content.htmlText) ?? fallback(content);
    case 'image':
      return nonBlank(content.text) ?? nonBlank(content.altText);
    case 'file':
      return nonBlank(content.text) ?? nonBlank(content.altText) ?? fileName(content.mediaUrl);
    case 'carousel':
    case 'list':
      return lines(items(content.items).flatMap((item) => [item.title, item.description])) ?? fallback(content);
    case 'form':
      return lines(items(content.fields).map((field) => nonBlank(field.label) ?? field.name)) ?? fallback(content);
    case 'formResponse':
      return lines(items(content.fields).map(formAnswer)) ?? nonBlank(content.textFallback) ?? fallback(content);
    case 'location':
      return location(content) ?? fallback(content);
    case 'template':
      return nonBlank(content.text);
    case 'voice_recording':
      // A call's words are its transcription (the `transcription_text` of Zendesk's voice
      // comments); a call without one has none to search.
      return nonBlank(content.transcription_text);
    default:
      return fallback(content);
  }
}

/** Unknown shapes: a top-level `text` or `body`, the names every shape so far has used. */
function fallback(content: Json): string | null {
  return string(content.text) ?? string(content.body);
}

function html(value: unknown): string | null {
  const body = string(value);
  // A trailing <br> (Zendesk ends most comments with one) would leave a dangling newline.
  return body === null ? null : htmlToText(body).trim();
}

function items(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

function lines(values: readonly unknown[]): string | null {
  const kept = values.filter((value): value is string => nonBlank(value) !== null);
  return kept.length > 0 ? kept.join('\n') : null;
}

// Zendesk's own rendering of a submitted form: one "label: value" line per field.
function formAnswer(field: Json): string | null {
  const label = nonBlank(field.label) ?? nonBlank(field.name);
  const selected = items(field.select)
    .map((option) => nonBlank(option.label) ?? nonBlank(option.name))
    .filter((option) => option !== null);
  const value =
    nonBlank(field.text) ?? nonBlank(field.email) ?? (selected.length > 0 ? selected.join(', ') : null);
  if (value === null) return null;
  return label === null ? value : `${label}: ${value}`;
}

function location(content: Json): string | null {
  const place = isRecord(content.location) ? content.location : {};
  const named = lines([place.name, place.address]);
  if (named !== null) return named;
  const coordinates = isRecord(content.coordinates) ? content.coordinates : {};
  const { lat, long } = coordinates;
  if (typeof lat === 'number' && typeof long === 'number') return `${lat}, ${long}`;
  return nonBlank(content.text);
}

/** The last path segment of a media URL: what the customer called the file. */
function fileName(value: unknown): string | null {
  const url = nonBlank(value);
  if (url === null) return null;
  const path = url.split(/[?#]/, 1)[0];
  const segment = path.slice(path.lastIndexOf('/') + 1);
  if (segment === '') return null;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
