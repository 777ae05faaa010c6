// An error in words: its one-line message (errorMessage), a SQLSTATE found among its causes,
// why a file or a connection failed, and credentials kept out of every message.
// drizzle-orm/errors is the small module that declares its query error, not the whole library.
import { DrizzleQueryError } from 'drizzle-orm/errors';

/**
 * `error` and its causes, itself first, `depth` deep (3 unless told). `plain`: objects that are not
 * Error instances count too, as pg-boss emits plain copies of its errors ({ ...err, message, queue })
 * and undici's causes are not all Errors.
 */
export function* causeChain(error: unknown, { plain = false, depth = 3 } = {}): Generator<{ code?: unknown; message?: unknown; name?: unknown }> {
  for (let e = error, level = 0; level < depth && (plain ? typeof e === 'object' && e !== null : e instanceof Error); e = (e as { cause?: unknown }).cause, level++) {
    yield e as { code?: unknown; message?: unknown; name?: unknown };
  }
}

/**
 * The first error in `error`'s chain of causes (itself first, three deep) whose `code` passes
 * `test`: drizzle keeps Postgres's error, with its SQLSTATE, as the cause of its own.
 */
export function causeWithCode(error: unknown, test: (code: string) => boolean): (Error & { code: string }) | undefined {
  for (const e of causeChain(error)) if (typeof e.code === 'string' && test(e.code)) return e as Error & { code: string };
  return undefined;
}

/**
 * Whether `error` (or a cause of it) is the FATAL a backend sends when its postmaster died: the
 * server's end. pg-boss's plain copies of errors count too. The embedded server's messages are in
 * English (lc_messages=C); on another server this is a guide, never the only sign.
 */
export function postmasterExited(error: unknown): boolean {
  for (const { code, message } of causeChain(error, { plain: true })) {
    if (code === '57P01' && typeof message === 'string' && message.includes('unexpected postmaster exit')) return true;
  }
  return false;
}

/** Why a file a person named (--file) cannot be read, in words where the code is a common one. */
export function unreadableFileReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'ENOTDIR') return 'a part of the path is not a directory';
  return errorMessage(error);
}

export function errorMessage(error: unknown): string {
  // drizzle's message is the whole statement and its parameters (a comment's body, say): the
  // reason is Postgres's error, its cause.
  if (error instanceof DrizzleQueryError) return error.cause ? errorMessage(error.cause) : 'a database statement failed';
  // Connecting to "localhost" tries ::1 and 127.0.0.1 and fails with both, in an empty-message AggregateError.
  if (error instanceof AggregateError && !error.message) return [...new Set(error.errors.map(errorMessage))].join('; ');
  if (error instanceof Error) return error.message;
  // pg-boss emits plain copies of its errors ({ ...err, message, queue }), not Error instances.
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/**
 * `text` without credentials, for every message and log line that may quote one: the password of
 * any URL (postgres://user:secret@host), an echoed Authorization header value, and each given
 * secret (of 4 characters or more) wherever it appears, JSON-escaped or percent-encoded too.
 */
export function hideSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi, '$1[redacted]@')
    .replace(/\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{8,}/gi, '$1 [redacted]');
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    // As written, and as a body quoting it re-serialised (a `"` or `\\` escaped) or a URL
    // (percent-encoded) writes it: the plain form is not in those.
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])) out = out.split(form).join('[redacted]');
  }
  return out;
}

// Node's and undici's codes for a failed connection, as a person reads them; `unreachable` says
// what the code means when it shows the host was never reached at all (not one failed request).
const NETWORK_REASONS: Record<string, { reason: string; unreachable?: string }> = {
  ECONNREFUSED: { reason: 'connection refused', unreachable: 'the connection was refused (nothing listens on that port)' },
  ECONNRESET: { reason: 'connection reset' },
  ENOTFOUND: { reason: 'host not found', unreachable: 'the host name does not resolve' },
  EAI_AGAIN: { reason: 'DNS lookup failed', unreachable: 'the host name could not be looked up (no answer from DNS)' },
  ETIMEDOUT: { reason: 'connection timed out', unreachable: 'the connection timed out' },
  EHOSTUNREACH: { reason: 'host unreachable', unreachable: 'the host is unreachable' },
  ENETUNREACH: { reason: 'network unreachable', unreachable: 'the network is unreachable' },
  EPIPE: { reason: 'connection closed' },
  UND_ERR_SOCKET: { reason: 'connection closed by the server' },
  UND_ERR_CONNECT_TIMEOUT: { reason: 'connection timed out', unreachable: 'the connection timed out' },
  UND_ERR_HEADERS_TIMEOUT: { reason: 'timeout waiting for response headers' },
  UND_ERR_BODY_TIMEOUT: { reason: 'timeout reading the response body' },
  // TLS: an https:// URL whose port speaks plain HTTP, or a certificate Node does not trust. A
  // setting to fix, not a server having a bad moment: no request to that address will succeed.
  ERR_SSL_WRONG_VERSION_NUMBER: { reason: 'TLS handshake failed', unreachable: 'the server does not speak TLS (is it an http:// address?)' },
  ERR_SSL_PACKET_LENGTH_TOO_LONG: { reason: 'TLS handshake failed', unreachable: 'the server does not speak TLS (is it an http:// address?)' },
  EPROTO: { reason: 'protocol error', unreachable: 'the TLS handshake failed (protocol error: is it an http:// address?)' },
  ERR_TLS_CERT_ALTNAME_INVALID: { reason: 'TLS certificate does not match the host', unreachable: "the server's TLS certificate does not match the host name" },
  CERT_HAS_EXPIRED: { reason: 'TLS certificate expired', unreachable: "the server's TLS certificate has expired" },
  DEPTH_ZERO_SELF_SIGNED_CERT: { reason: 'self-signed TLS certificate', unreachable: "the server's TLS certificate is self-signed (not trusted)" },
  SELF_SIGNED_CERT_IN_CHAIN: { reason: 'self-signed TLS certificate in chain', unreachable: "the server's TLS certificate chain is self-signed (not trusted; NODE_EXTRA_CA_CERTS adds a CA)" },
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: { reason: 'TLS certificate not verified', unreachable: "the server's TLS certificate cannot be verified (NODE_EXTRA_CA_CERTS adds a CA)" },
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: { reason: 'TLS certificate not verified', unreachable: "the server's TLS certificate cannot be verified (NODE_EXTRA_CA_CERTS adds a CA)" },
};

/** What a network error code means ("connection refused"), or undefined for any other code. */
export function networkErrorReason(code: string): string | undefined {
  return Object.hasOwn(NETWORK_REASONS, code) ? NETWORK_REASONS[code].reason : undefined;
}

/** Why the host was never reached, for a code that says so ("the host name does not resolve"), else undefined. */
export function unreachableReason(code: string): string | undefined {
  return Object.hasOwn(NETWORK_REASONS, code) ? NETWORK_REASONS[code].unreachable : undefined;
}

/**
 * pg's words when the server asks for a password by SCRAM and it has none to give (none in the
 * URL, PGPASSWORD or ~/.pgpass); by md5 it sends one made of nothing, which the server refuses
 * (28P01).
 */
const NO_PASSWORD = /^SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a (non-empty )?string$/;

/** pg gave up a SCRAM login for want of a password to send: configuration, as a refused one (28P01). */
export function noPasswordToSend(error: unknown): boolean {
  return NO_PASSWORD.test(errorMessage(error));
}
