// A webhook's body, read into memory within its size cap and within what all the bodies being
// read at once may hold: the path needs no credentials until the body is read, so a flood of
// large bodies would otherwise take memory without bound.
import type http from 'node:http';

export type BodyRefusal = 'too_large' | 'server_busy';

export interface BodyAllowance {
  /** Takes `bytes` more of the allowance; false (nothing taken) when that would pass it. */
  take(bytes: number): boolean;
  give(bytes: number): void;
}

/** `onChange` is told the bytes held after each change (a gauge). */
export function bodyAllowance(limit: number, onChange: (held: number) => void = () => {}): BodyAllowance {
  let held = 0;
  return {
    take(bytes) {
      if (held + bytes > limit) return false;
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
 * The raw body; 'too_large' once it passes `limit` bytes, 'server_busy' when the bodies being
 * read at once would pass their allowance. The rest is read and dropped rather than the socket
 * destroyed, so the client gets its answer (the server's request timeout cuts a sender that
 * never stops). The allowance is held only while the body is read: what follows is quick.
 */
export function readBody(req: http.IncomingMessage, limit: number, allowance: BodyAllowance): Promise<Buffer | BodyRefusal> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (outcome: Buffer | BodyRefusal | Error) => {
      req.off('data', onData).off('end', onEnd).off('error', finish).off('close', onClose);
      allowance.give(size);
      if (outcome instanceof Error) return reject(outcome);
      if (!Buffer.isBuffer(outcome)) req.resume();
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > limit) return finish('too_large');
      if (!allowance.take(chunk.length)) return finish('server_busy');
      size += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = () => finish(Buffer.concat(chunks, size));
    // A connection cut without an error still gives back what its body held.
    const onClose = () => finish(new Error('the connection closed before the body ended'));
    req.on('data', onData).on('end', onEnd).on('error', finish).on('close', onClose);
  });
}
