// How each environment variable is read and checked (zod): numbers within their range, URLs that
// carry no credential, one of a few words. src/config.ts puts them together. A bad value is
// quoted as CLI input is (quoted: escaped, its first 40 characters); secrets and URLs never are.
import { z } from 'zod';
import { quoted } from './text.ts';

export const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** A whole number from 1 to `max`; `unit` words the maximum in its message ("seconds"). */
export function positiveInteger(fallback: number, max: number, unit = '') {
  return optionalText.transform((value, ctx) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n <= 0) {
      ctx.addIssue({ code: 'custom', message: `must be a positive integer, got ${quoted(value)}` });
      return z.NEVER;
    }
    if (n > max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${max}${unit ? ` ${unit}` : ''}, got ${quoted(value)}` });
      return z.NEVER;
    }
    return n;
  });
}

export function oneOf<T extends string>(values: readonly T[], fallback: T) {
  return optionalText.transform((value, ctx) => {
    if (value === undefined) return fallback;
    const lower = value.toLowerCase() as T;
    if (!values.includes(lower)) {
      ctx.addIssue({ code: 'custom', message: `must be one of ${values.join(', ')}, got ${quoted(value)}` });
      return z.NEVER;
    }
    return lower;
  });
}

export const boolean = optionalText.transform((value, ctx) => {
  if (value === undefined) return false;
  if (/^(true|1|yes|on)$/i.test(value)) return true;
  if (/^(false|0|no|off)$/i.test(value)) return false;
  ctx.addIssue({ code: 'custom', message: `must be true or false, got ${quoted(value)}` });
  return z.NEVER;
});

/** The port of a URL's authority (after any user name and password), as written. */
function writtenPort(url: string): string | undefined {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1] ?? '';
  return /:(\d*)$/.exec(authority.slice(authority.lastIndexOf('@') + 1))?.[1];
}

function badPort(url: string): string | undefined {
  const port = writtenPort(url);
  if (port === undefined || port === '') return undefined;
  const n = Number(port);
  return n >= 1 && n <= 65_535 ? undefined : `has port ${port}: a port is from 1 to 65535`;
}

/**
 * The ports fetch will not connect to (the Fetch standard's "bad ports": other protocols' ports).
 * Every request to one fails as "fetch failed", which reads like a network fault and is retried.
 */
const FETCH_BLOCKED_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111,
  113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548,
  554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566,
  6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/**
 * Whether a URL holds a user name or password, parsed or not: a message must then not quote it.
 * WHATWG parsing takes `http:user:pw@host` and a backslash for `//`, so the text is read that way too.
 */
export function carriesCredentials(url: string): boolean {
  const authority = /^[a-z][a-z0-9+.-]*:[/\\]*([^/?#\\]*)/i.exec(url)?.[1] ?? '';
  if (authority.includes('@')) return true;
  if (!URL.canParse(url)) return false;
  const { username, password } = new URL(url);
  return username !== '' || password !== '';
}

const FETCH_BLOCKED = "one Node's fetch never connects to (a port of another protocol, blocked by the Fetch standard): use another port";

/** CONVLOG_SERVE_PORT: `webhook test` sends there with fetch, which refuses the blocked ports as "bad port". */
export function servePort(fallback: number) {
  return integerFrom(1, 65_535, fallback, 'a port').superRefine((port, ctx) => {
    const problem = fetchBlockedPort(port);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}

/** Why `port` will not do for serve (`serve --port` as CONVLOG_SERVE_PORT), or undefined. */
export function fetchBlockedPort(port: number): string | undefined {
  return FETCH_BLOCKED_PORTS.has(port) ? `is port ${port}, ${FETCH_BLOCKED}` : undefined;
}

// Never quoted in a message: a user name, password or query may hold a credential.
export const httpUrl = optionalText.superRefine((v, ctx) => {
  if (v === undefined) return;
  const problem = (message: string) => ctx.addIssue({ code: 'custom', message });
  if (!/^https?:\/\/[^\s/]+/i.test(v)) {
    // `acme` or `acme.zendesk.com`: the account's name, which ZENDESK_SUBDOMAIN takes as it is.
    // Only a value shaped like one is echoed (lower case, at most 30 characters): an API token
    // pasted on the wrong line is letters and digits too, and must not be printed back.
    const account = /^([a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?)(?:\.zendesk\.com)?\/?$/.exec(v)?.[1];
    if (account) return problem(`must be an http(s) URL such as https://${account}.zendesk.com: for the account name alone, set ZENDESK_SUBDOMAIN=${account} instead`);
    return problem('must be an http(s) URL such as https://acme.zendesk.com; for an account name use ZENDESK_SUBDOMAIN');
  }
  // fetch refuses such a URL on every request, and its error quotes the password.
  if (carriesCredentials(v)) {
    return problem('must not carry a user name or password: use ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN');
  }
  const port = badPort(v);
  if (port) return problem(port);
  const url = URL.parse(v);
  if (!url) return problem('is not a valid URL: give one such as https://acme.zendesk.com');
  if (FETCH_BLOCKED_PORTS.has(Number(url.port))) return problem(`has port ${url.port}, ${FETCH_BLOCKED}`);
  // Request paths are appended to the base URL: a query or fragment would end up in the middle.
  if (/[?#]/.test(v)) return problem('must not have a query string (?...) or fragment (#...): give the root, such as https://acme.zendesk.com');
  const wrongPath = pathProblem(url);
  if (wrongPath) return problem(wrongPath);
});

/**
 * Request paths (api/v2/...) are appended to the base URL, so a path copied with it reaches no
 * API: every request would meet a 404 (after the account was recorded under that address). Zendesk
 * serves its API at the root of its hosts only; a proxy may have a path of its own, but not /api/.
 * Only the root of a zendesk.com URL is printed (the account's name); a path or another host never is.
 */
function pathProblem(url: URL): string | undefined {
  const path = url.pathname.replace(/\/+$/, '');
  if (path === '') return undefined;
  const host = url.hostname.toLowerCase();
  const root = host.endsWith('.zendesk.com') ? `${url.protocol}//${host}` : undefined;
  if (/(^|\/)api(\/|$)/i.test(path)) {
    return root
      ? `must be the account's root URL, ${root}, without /api/v2 (convlog adds it to each request)`
      : "must not have /api/ in its path: give the account's root URL (https://acme.zendesk.com), or a proxy's, and convlog adds /api/v2/ to each request";
  }
  if (root) return `must be the account's root URL, ${root}, without a path: Zendesk's API is at the root of its host`;
  return undefined;
}

/** The sslmode values libpq documents, and node-postgres's no-verify. */
const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

export const postgresUrl = optionalText.superRefine((v, ctx) => {
  if (v === undefined) return;
  if (!/^postgres(ql)?:\/\/\S+$/i.test(v)) {
    ctx.addIssue({ code: 'custom', message: 'must be a postgres:// URL such as postgres://user:password@localhost:5432/convlog' });
    return;
  }
  // A port out of range is not a character to percent-encode.
  const port = badPort(v);
  if (port) {
    ctx.addIssue({ code: 'custom', message: port });
    return;
  }
  // libpq and node-postgres also take the port from the query string, where it overrides the URL's.
  const queryPorts = URL.canParse(v) ? new URL(v).searchParams.getAll('port') : [];
  const badQueryPort = queryPorts.find((port) => !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65_535));
  if (badQueryPort !== undefined) {
    ctx.addIssue({ code: 'custom', message: `has ${quoted(`port=${badQueryPort}`)} in its query string: a port is from 1 to 65535` });
    return;
  }
  // node-postgres takes an sslmode it does not know for "use SSL", and the server that has none
  // answers "does not support SSL connections": the typo is never named.
  const sslModes = URL.canParse(v) ? new URL(v).searchParams.getAll('sslmode') : [];
  const badSslMode = sslModes.find((mode) => !SSL_MODES.includes(mode));
  if (badSslMode !== undefined) {
    ctx.addIssue({ code: 'custom', message: `has ${quoted(`sslmode=${badSslMode}`)} in its query string: sslmode is one of ${SSL_MODES.join(', ')}` });
    return;
  }
  // A Postgres URL has no fragment, so a # can only be a password character, which cuts the URL
  // short (often into a valid one with the wrong host). The other characters fail to parse.
  const special = v.includes('#') ? 'contains "#"' : !URL.canParse(v) ? 'is not a valid URL' : undefined;
  if (special) {
    ctx.addIssue({
      code: 'custom',
      message: `${special}: percent-encode special characters in the user name or password (# as %23, @ as %40, : as %3A, / as %2F, ? as %3F, % as %25)`,
    });
  }
});

/**
 * node-postgres 8 treats sslmode=prefer, require and verify-ca as verify-full (the server's
 * certificate and host name are checked) and prints a nine-line warning on every start that
 * version 9 will weaken them to libpq's meaning. convlog asks for verify-full by name: the same
 * connection, no warning. With uselibpqcompat=true in the URL, pg follows libpq and the URL is
 * left as given (pg reads the parameter only in lower case, and only "true").
 */
export function explicitSslMode(url: string): string {
  const query = url.indexOf('?');
  if (query < 0 || /[?&]uselibpqcompat=true(?=&|$)/.test(url)) return url;
  return url.slice(0, query) + url.slice(query).replace(/([?&])sslmode=(?:prefer|require|verify-ca)(?=&|$)/g, '$1sslmode=verify-full');
}

/** A host name's label holds at most 63 characters (RFC 1035): a longer one cannot be looked up. */
const MAX_LABEL = 63;

export const subdomain = optionalText.superRefine((v, ctx) => {
  if (v === undefined) return;
  if (!/^[a-z0-9][a-z0-9-]*$/i.test(v)) {
    // A URL or a host name pasted whole is the likely slip; anything else is letters, digits and dashes.
    const named = /^(?:https?:\/\/)?([a-z0-9][a-z0-9-]*)\.zendesk\.com\/?$/i.exec(v)?.[1];
    const should = named ? `: ZENDESK_SUBDOMAIN=${named}` : ' (letters, digits and dashes), such as "acme" for https://acme.zendesk.com';
    ctx.addIssue({ code: 'custom', message: `must be the account name only${should}, got ${quoted(v)}` });
  } else if (v.endsWith('-')) {
    // A host name label ends with a letter or digit (RFC 1123): the lookup would fail on every request.
    ctx.addIssue({ code: 'custom', message: `must not end with "-", got ${quoted(v)}` });
  } else if (v.length > MAX_LABEL) {
    ctx.addIssue({ code: 'custom', message: `has ${v.length} characters: a subdomain has at most ${MAX_LABEL}, got ${quoted(v)}` });
  }
});

/**
 * The address of the agent whose API token convlog uses. Zendesk's user name for a token is
 * `email/token`, and its documentation shows it that way, so the suffix is often copied in: every
 * request then gets a 401 that does not say what is wrong. The value is not echoed: a token
 * pasted into the wrong variable would be printed.
 */
export const zendeskEmail = optionalText.superRefine((v, ctx) => {
  if (v === undefined) return;
  if (/\/token$/i.test(v)) {
    ctx.addIssue({ code: 'custom', message: 'must be the agent\'s email address alone, without "/token" (convlog adds it)' });
  } else if (!/^[^\s@/]+@[^\s@/]+$/.test(v)) {
    ctx.addIssue({ code: 'custom', message: 'must be the email address of the agent whose API token ZENDESK_API_TOKEN is, such as agent@example.com' });
  }
});

/**
 * What is wrong with a token that is not one word of visible ASCII, or undefined. Tokens are made
 * of letters, digits and a few marks; anything else is a paste gone wrong (two lines, a
 * typographic quote). An OAuth token goes into a header as is, where Node refuses such a character
 * on every request with a message that quotes the whole header, token included. The token itself
 * is never quoted here, only where the bad character is.
 */
export function tokenProblem(token: string): string | undefined {
  const at = token.search(/[^\x21-\x7e]/);
  if (at < 0) return undefined;
  const char = token.charCodeAt(at);
  const what = char === 0x0a || char === 0x0d ? 'a line break' : char === 0x20 || char === 0x09 ? 'a space' : char < 0x20 || char === 0x7f ? 'a control character' : 'a character that is not ASCII';
  return `has ${what} at character ${at + 1}: a token is one word of letters, digits and ASCII marks (paste it again)`;
}

/** A Zendesk API token, sent base64-encoded with the agent's email address. */
export const zendeskApiToken = optionalText.superRefine((v, ctx) => {
  const problem = v === undefined ? undefined : tokenProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** An OAuth access token, sent as `Authorization: Bearer <token>`: the prefix is often copied in with it. */
export const zendeskOauthToken = optionalText.superRefine((v, ctx) => {
  if (v === undefined) return;
  if (/^bearer\s/i.test(v)) {
    ctx.addIssue({ code: 'custom', message: 'must be the access token alone, without "Bearer " (convlog adds it)' });
    return;
  }
  const problem = tokenProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

// convlog serve: webhooks
export const webhookSecrets = optionalText.transform((value, ctx) => {
  const secrets = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  // Zendesk's secrets are long random strings; a short one is a typo or a placeholder.
  if (secrets.some((s) => s.length < 8)) {
    ctx.addIssue({ code: 'custom', message: 'has a secret shorter than 8 characters' });
    return z.NEVER;
  }
  return secrets;
});

export function integerFrom<Fallback extends number | undefined>(min: number, max: number, fallback: Fallback, what: string) {
  return optionalText.transform((value, ctx) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `must be ${what} from ${min} to ${max}, got ${quoted(value)}` });
      return z.NEVER;
    }
    return n;
  });
}
