// One ky instance per account. Deliberately dumb: no retries and no thrown HTTP errors, because
// every attempt must pass through the rate budget and every status is mapped in responses.ts.
import ky, { type KyInstance } from 'ky';
import pkg from '../../package.json' with { type: 'json' };
import type { ZendeskAuth, ZendeskConfig } from '../config.ts';
import type { Logger } from '../log.ts';

export type ZendeskHttp = KyInstance;

export interface ZendeskHttpOptions {
  log?: Logger;
  /** Another fetch (a proxy agent, a recorder); defaults to the global one. */
  fetch?: typeof fetch;
}

/** What error messages need to know about a client without holding its config. */
export interface ZendeskHttpInfo {
  host: string;
  /** Scheme and host, such as https://acme.zendesk.com: what a person typed, for messages. */
  origin: string;
  /** The whole base URL as configured (a path included), for messages about the URL itself. */
  baseUrl: string;
  timeoutMs: number;
  /** Strings that must never appear in a message or log line. */
  secrets: readonly string[];
  /** Which credentials it sends: a 401 names the variables of those only. */
  auth: ZendeskAuth['kind'];
}

const infos = new WeakMap<ZendeskHttp, ZendeskHttpInfo>();

const USER_AGENT = `convlog/${pkg.version}`;

function authorizationHeader(auth: ZendeskAuth): string {
  if (auth.kind === 'oauth') return `Bearer ${auth.token}`;
  return `Basic ${Buffer.from(`${auth.email}/token:${auth.token}`).toString('base64')}`;
}

export function createZendeskHttp(config: ZendeskConfig, options: ZendeskHttpOptions = {}): ZendeskHttp {
  const authorization = authorizationHeader(config.auth);
  // A trailing slash keeps a base URL with a path (a proxy) from losing its last segment.
  const baseUrl = config.baseUrl.endsWith('/') ? config.baseUrl : `${config.baseUrl}/`;
  const log = options.log;
  const http = ky.create({
    baseUrl,
    headers: {
      authorization,
      accept: 'application/json',
      'user-agent': USER_AGENT,
    },
    timeout: config.requestTimeoutMs,
    retry: 0,
    throwHttpErrors: false,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    // No afterResponse hook: ky hands each one a clone of the response, whose body stream is
    // then buffered twice. The pagers log every answer (page, status, time) themselves.
    hooks: log
      ? {
          // The URL only: headers carry the credential.
          beforeRequest: [({ request }) => log.trace({ method: request.method, url: request.url }, 'zendesk request')],
        }
      : {},
  });
  const secrets = [config.auth.token, authorization.slice(authorization.indexOf(' ') + 1)];
  if (config.auth.kind === 'token') secrets.push(`${config.auth.email}/token:${config.auth.token}`);
  infos.set(http, { host: new URL(baseUrl).host, origin: new URL(baseUrl).origin, baseUrl: baseUrl.replace(/\/+$/, ''), timeoutMs: config.requestTimeoutMs, secrets, auth: config.auth.kind });
  return http;
}

/** The facts registered for a client made by createZendeskHttp (undefined for any other ky). */
export function zendeskHttpInfo(http: ZendeskHttp): ZendeskHttpInfo | undefined {
  return infos.get(http);
}
