// Injected failures. Decisions come from one PRNG seeded by the simulator's seed, drawn a fixed
// number of times per request, so a run with the same seed and request order fails the same way.
import { jsonReply, textReply, type Reply } from './http.ts';
import type { MalformedKind, PageBody } from './types.ts';
import { createRng, hash32, type Rng } from './random.ts';

export interface FaultRates {
  failRate: number;
  truncateRate: number;
  hangRate: number;
}

export interface FaultDecision {
  hang: boolean;
  fail: 500 | 503 | 504 | null;
  truncate: boolean;
  /** Where to cut, as a fraction of the body. */
  cutAt: number;
}

export class FaultDice {
  #rng: Rng;

  constructor(seed: number) {
    this.#rng = createRng(hash32(seed, 0xfa17));
  }

  roll(rates: FaultRates): FaultDecision {
    const [hang, fail, kind, truncate, cutAt] = [this.#rng.next(), this.#rng.next(), this.#rng.next(), this.#rng.next(), this.#rng.next()];
    return {
      hang: hang < rates.hangRate,
      fail: fail < rates.failRate ? ([500, 503, 504] as const)[Math.floor(kind * 3)] : null,
      truncate: truncate < rates.truncateRate,
      cutAt,
    };
  }
}

/** Three different bodies, as a real stack of Rails, load balancer and CDN produces. */
export function failureReply(status: 500 | 503 | 504, headers: Record<string, string>): Reply {
  if (status === 500) return jsonReply(500, { error: 'InternalServerError', description: 'Something went wrong. Please try again later.' }, headers);
  if (status === 503) return textReply(503, 'Service Unavailable: maintenance in progress, please retry later\n', 'text/plain; charset=utf-8', { ...headers, 'Retry-After': '1' });
  return textReply(504, '<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n', 'text/html', headers);
}

/** Keeps a strict prefix of the body (never all of it) so the JSON cannot parse. */
export function truncateReply(reply: Reply, cutAt: number): Reply {
  const length = Math.max(1, Math.min(reply.body.length - 1, Math.floor(reply.body.length * cutAt)));
  return { ...reply, body: reply.body.subarray(0, length), json: false };
}

/** A ticket whose pages are broken in one of the ways a validator must catch. */
export function malformedReply(kind: MalformedKind, page: PageBody, headers: Record<string, string>): Reply {
  switch (kind) {
    case 'missing-events':
      return jsonReply(200, { links: page.links, meta: page.meta }, headers);
    case 'missing-reference': {
      const events = page.events.map((event, i) => {
        if (i !== 0) return event;
        const { reference: _dropped, ...rest } = event;
        return rest;
      });
      return jsonReply(200, { ...page, events }, headers);
    }
    case 'wrong-types':
      return jsonReply(200, { events: Object.fromEntries(page.events.map((e, i) => [String(i), e])), links: page.links, meta: { ...page.meta, has_more: String(page.meta.has_more) } }, headers);
    case 'not-json':
      return textReply(200, '<!DOCTYPE html>\n<html><head><title>Zendesk</title></head><body><h1>Help Center is temporarily closed</h1></body></html>\n', 'text/html; charset=utf-8', headers);
  }
}
