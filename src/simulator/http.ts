// Replies as plain values, so faults can reshape them (truncate, replace) before they are sent,
// and Zendesk's two error body shapes in one place.
import type { ServerResponse } from 'node:http';

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  contentType: string;
  /** True for a well-formed JSON body: only those are candidates for truncation. */
  json: boolean;
}

export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return serializedJsonReply(status, Buffer.from(JSON.stringify(value)), headers);
}

/** A reply whose JSON body was serialised beforehand. */
export function serializedJsonReply(status: number, body: Buffer, headers: Record<string, string> = {}): Reply {
  return { status, headers, body, contentType: 'application/json; charset=utf-8', json: true };
}

export function textReply(status: number, body: string, contentType = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): Reply {
  return { status, headers, body: Buffer.from(body), contentType, json: false };
}

/** Older endpoints answer {"error", "description"}. */
export function legacyError(status: number, error: string, description: string): Reply {
  return jsonReply(status, { error, description });
}

/** Newer endpoints answer {"errors": [{code, title}]}. */
export function listError(status: number, code: string, title: string, detail?: string): Reply {
  return jsonReply(status, { errors: [{ code, title, ...(detail ? { detail } : {}) }] });
}

export const unauthenticated = (): Reply => jsonReply(401, { error: "Couldn't authenticate you" });
export const invalidEndpoint = (): Reply => legacyError(404, 'InvalidEndpoint', 'Not found');
export const recordNotFound = (): Reply => legacyError(404, 'RecordNotFound', 'Not found');
export const forbidden = (): Reply => listError(403, 'Forbidden', 'You do not have access to this ticket');

/** `date`: the account's clock, which Node's own Date header would not follow. */
export function send(res: ServerResponse, reply: Reply, date: Date): void {
  res.writeHead(reply.status, {
    ...reply.headers,
    Date: date.toUTCString(),
    'Content-Type': reply.contentType,
    'Content-Length': String(reply.body.length),
  });
  res.end(reply.body);
}

/** Query parameters, last value wins (URLSearchParams turns a raw "+" into a space, as Rails does). */
export function queryObject(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of params) out[key] = value;
  return out;
}
