// A Zendesk error body in one short line for a message: the JSON shapes' descriptions, an HTML
// page's title, or the text, without credentials.
import { hideSecrets } from '../errors/messages.ts';

const MAX_DESCRIPTION = 200;

/**
 * A readable one-line summary (≤ 200 characters) of an error body in any of Zendesk's shapes:
 * `{error, description}`, `{errors: [{code, title, detail}]}`, or plain text / HTML.
 */
export function describeBody(body: string, contentType?: string | null, secrets?: readonly string[]): string {
  const text = body.trim();
  if (text === '') return '';
  let summary: string | undefined;
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      summary = describeJson(JSON.parse(text));
    } catch {
      // Not JSON after all (or cut off): fall through to plain text.
    }
  }
  if (summary === undefined) {
    const html = /html/i.test(contentType ?? '') || /^<(!doctype|html|head|body|\?xml)/i.test(text);
    summary = html ? describeHtml(text) : text;
  }
  return shorten(hideSecrets(summary.replace(/\s+/g, ' ').trim(), secrets));
}

function describeJson(value: unknown): string {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    if (Array.isArray(record.errors) && record.errors.length > 0) {
      const parts = record.errors.map((item) => {
        if (!item || typeof item !== 'object') return String(item);
        const { code, title, detail } = item as Record<string, unknown>;
        return joinParts([code, title, detail]);
      });
      return [...new Set(parts)].join('; ');
    }
    if (record.error !== undefined) {
      const error = record.error;
      const head =
        error && typeof error === 'object'
          ? joinParts([(error as Record<string, unknown>).title, (error as Record<string, unknown>).message])
          : String(error);
      return joinParts([head, record.description ?? record.message ?? record.details]);
    }
    if (typeof record.message === 'string') return record.message;
  }
  return JSON.stringify(value);
}

function joinParts(parts: unknown[]): string {
  const texts = parts
    .filter((part) => part !== undefined && part !== null && part !== '')
    .map((part) => (typeof part === 'string' ? part : JSON.stringify(part)));
  return [...new Set(texts)].join(': ');
}

function describeHtml(html: string): string {
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1];
  const heading = /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(html)?.[1];
  const chosen = title ?? heading ?? html.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ');
  return decodeEntities(chosen.replace(/<[^>]*>/g, ' '));
}

function decodeEntities(text: string): string {
  return text
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

function shorten(text: string): string {
  return text.length <= MAX_DESCRIPTION ? text : `${text.slice(0, MAX_DESCRIPTION - 1)}…`;
}


export function errorCodes(body: string): string[] {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    const codes: string[] = [];
    if (Array.isArray(parsed?.errors)) {
      for (const item of parsed.errors) {
        if (item && typeof item === 'object' && typeof (item as Record<string, unknown>).code === 'string') {
          codes.push((item as Record<string, string>).code);
        }
      }
    }
    if (typeof parsed?.error === 'string') codes.push(parsed.error);
    return codes;
  } catch {
    return /InvalidPaginationParameter/.test(body) ? ['InvalidPaginationParameter'] : [];
  }
}
