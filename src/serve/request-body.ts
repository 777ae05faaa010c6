// A webhook's body, read into memory within three limits: its own size; what all the bodies being
// read at once may hold (the path needs no credentials until the body is read, so a flood of
// large bodies would otherwise take memory without bound); and how long it may take once its
// headers are in, so that slow senders cannot keep that allowance from Zendesk's deliveries.
import type http from 'node:http';

export type BodyRefusal = 'too_large' | 'server_busy' | 'slow_sender';

/** A body not read, why, and how many of its bytes had come (for the log line: never the bytes). */
export interface RefusedBody {
  refused: BodyRefusal;
  received: number;
}

export interface BodyLimits {
  /** A body longer than this is refused. */
  maxBytes: number;
  /** A body declared (or grown) longer than this is large: it may not take the allowance's reserve. */
  smallBytes: number;
  /** How long the body may take from the moment its headers are in. */
  deadlineMs: number;
}

export interface BodyAllowance {
  /** Takes `bytes` more; false (nothing taken) when that would pass what a body of its size may use. */
  take(bytes: number, large: boolean): boolean;
  give(bytes: number): void;
}

/**
 * `limit` bytes for all the bodies being read, of which large bodies may take all but `reserve`:
 * the last of it is kept for small ones, as Zendesk's are. `onChange` is told the bytes held
 * after each change (a gauge).
 */
export function bodyAllowance(limit: number, reserve: number, onChange: (held: number) => void = () => {}): BodyAllowance {
  let held = 0;
  return {
    take(bytes, large) {
      if (held + bytes > (large ? limit - reserve : limit)) return false;
      held += bytes;
      onChange(held);
      return true;
    },
    give(bytes) {
      held -= bytes;
      onChange(held);
    },
  };
}

/** The Content-Length a request declares; 0 without one (a chunked body is counted as it comes). */
export function declaredLength(req: http.IncomingMessage): number {
  return Number(req.headers['content-length'] ?? 0);
}

/** Why a request's body could not be read, for the log. */
export function cutReason(req: http.IncomingMessage): string {
  // A socket the server destroyed itself (a shutdown's closeAllConnections) carries no error.
  const error = req.socket.errored as NodeJS.ErrnoException | null;
  if (!error) return 'cut at shutdown';
  return error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request timeout' : 'the client closed the connection';
}

/**
 * The raw body, or why it was refused: 'too_large' once it passes `maxBytes`, 'server_busy' when
 * the bodies being read at once would pass their allowance, 'slow_sender' when it has not all
 * come by its deadline. After 'too_large' and 'server_busy' the rest is read and dropped rather
 * than the socket destroyed, so the client gets its answer; the answer to a slow sender closes
 * its connection. The allowance is held only while the body is read: what follows is quick.
 */
export function readBody(req: http.IncomingMessage, limits: BodyLimits, allowance: BodyAllowance): Promise<Buffer | RefusedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // A chunked body declares nothing: it becomes large as it grows past the size.
    let large = declaredLength(req) > limits.smallBytes;
    let verdict: NodeJS.Immediate | undefined;
    const finish = (outcome: Buffer | BodyRefusal | Error) => {
      clearTimeout(deadline);
      clearImmediate(verdict);
      req.off('data', onData).off('end', onEnd).off('error', finish).off('close', onClose);
      allowance.give(size);
      if (outcome instanceof Error) return reject(outcome);
      if (Buffer.isBuffer(outcome)) return resolve(outcome);
      req.resume();
      resolve({ refused: outcome, received: size });
    };
    // Zendesk sends its few KB at once; a sender still sending after this is stuck or hostile,
    // and would otherwise hold its share of the allowance until Node's request timeout.
    // After the event loop was blocked past the deadline, Node runs due timers before it reads the
    // sockets: a body that came whole meanwhile still waits in the kernel. The verdict waits one
    // turn of the loop, whose poll phase reads it (up to 2 MB a socket, more than maxBytes).
    const deadline = setTimeout(() => (verdict = setImmediate(() => finish('slow_sender'))), limits.deadlineMs);
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > limits.maxBytes) return finish('too_large');
      large ||= size + chunk.length > limits.smallBytes;
      if (!allowance.take(chunk.length, large)) return finish('server_busy');
      size += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = () => finish(Buffer.concat(chunks, size));
    // A connection cut without an error still gives back what its body held.
    const onClose = () => finish(new Error('the connection closed before the body ended'));
    req.on('data', onData).on('end', onEnd).on('error', finish).on('close', onClose);
  });
}
