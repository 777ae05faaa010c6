// A TCP proxy in front of a Postgres that reads each client's start-up packet as PgBouncer does
// with its default settings: a parameter outside the few it keeps track of (and an empty
// ignore_startup_parameters) is refused with an ErrorResponse, "unsupported startup parameter: X",
// and the connection closed; any other start-up is passed on, and the connection with it. Like
// PgBouncer it gives each client a cancel key of its own (BackendKeyData), not the server's: a
// cancel request sent with it is passed on to the server with the server's key, while the
// "process id" in it names no backend, so pg_cancel_backend of it cancels nothing. It stands in for
// a PgBouncer the suite does not have (docs/operations.md, "Behind PgBouncer").
import { randomInt } from 'node:crypto';
import net from 'node:net';

/**
 * The start-up parameters PgBouncer 1.18 takes unasked: the login, those it keeps track of (its
 * pgbouncer.ini(5), ignore_startup_parameters) and application_name, which it tracks too.
 */
const ACCEPTED = new Set(['user', 'database', 'client_encoding', 'datestyle', 'timezone', 'standard_conforming_strings', 'application_name']);

const PROTOCOL_3 = 196_608;
const CANCEL_REQUEST = 80_877_102;
const SSL_REQUEST = 80_877_103;

export interface StartupCheckingProxy {
  port: number;
  /** The parameters refused so far, in order. */
  refused: string[];
  close(): Promise<void>;
}

/** PgBouncer's answer to a refused start-up: a FATAL ErrorResponse ('E'), SQLSTATE 08P01. */
function errorResponse(message: string): Buffer {
  const fields = Buffer.from(['SFATAL', 'VFATAL', 'C08P01', `M${message}`].map((field) => `${field}\0`).join('') + '\0');
  const head = Buffer.alloc(5);
  head.write('E');
  head.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields]);
}

/** The names of a start-up packet's parameters, or undefined for another first message (SSLRequest, a cancel). */
function startupNames(packet: Buffer): string[] | undefined {
  if (packet.length < 8 || packet.readInt32BE(4) !== PROTOCOL_3) return undefined;
  const pairs = packet.subarray(8, packet.readInt32BE(0)).toString('utf8').split('\0');
  return pairs.filter((_, i) => i % 2 === 0 && pairs[i] !== '');
}

/** A cancel request (the client's first and only message): its process id and secret, as 8 bytes. */
function cancelKey(packet: Buffer): string | undefined {
  return packet.length === 16 && packet.readInt32BE(4) === CANCEL_REQUEST ? packet.subarray(8, 16).toString('hex') : undefined;
}

/**
 * Passes the server's answers to a log-in on to `client`, each BackendKeyData ('K') with a key of
 * the proxy's in place of the server's (`keys` maps it back), then everything else as it comes.
 */
function passLogin(upstream: net.Socket, client: net.Socket, keys: Map<string, Buffer>): void {
  let pending = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5 && pending.length >= 1 + pending.readInt32BE(1)) {
      const message = pending.subarray(0, 1 + pending.readInt32BE(1));
      pending = pending.subarray(message.length);
      if (message[0] === 0x4b && message.length === 13) {
        // Far above any Linux pid, as PgBouncer's random keys mostly are.
        const fake = Buffer.alloc(8);
        fake.writeInt32BE(randomInt(2 ** 30, 2 ** 31 - 1));
        fake.writeInt32BE(randomInt(2 ** 31 - 1), 4);
        keys.set(fake.toString('hex'), Buffer.from(message.subarray(5)));
        client.write(Buffer.concat([message.subarray(0, 5), fake]));
        continue;
      }
      client.write(message);
      // ReadyForQuery: logged in, and the rest passes unread.
      if (message[0] === 0x5a) {
        upstream.off('data', onData);
        if (pending.length > 0) client.write(pending);
        upstream.pipe(client);
        return;
      }
    }
  };
  upstream.on('data', onData);
}

export async function startStartupCheckingProxy(target: { host: string; port: number }): Promise<StartupCheckingProxy> {
  const refused: string[] = [];
  const keys = new Map<string, Buffer>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    let head = Buffer.alloc(0);
    const firstMessage = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (head.length < 4 || head.length < head.readInt32BE(0)) return;
      client.off('data', firstMessage);
      // No TLS here: an SSLRequest is answered "N", and the start-up that follows read as the first.
      if (head.length === 8 && head.readInt32BE(4) === SSL_REQUEST) {
        head = Buffer.alloc(0);
        client.write('N');
        client.on('data', firstMessage);
        return;
      }
      const cancelling = cancelKey(head);
      if (cancelling !== undefined) {
        // Passed on once a connection to the server is open, unless the sender hung up by then
        // (PgBouncer logs "client unexpected eof" and drops it); the sender's closed after.
        const real = keys.get(cancelling);
        if (real === undefined) return void client.end();
        let hungUp = false;
        client.on('end', () => (hungUp = true)).resume();
        const upstream = net.connect({ host: target.host, port: target.port }).on('error', () => client.destroy());
        upstream.on('connect', () => (hungUp ? upstream.destroy() : upstream.end(Buffer.concat([head.subarray(0, 8), real]))));
        upstream.on('close', () => client.end());
        return;
      }
      const unsupported = startupNames(head)?.find((name) => !ACCEPTED.has(name.toLowerCase()));
      if (unsupported !== undefined) {
        refused.push(unsupported);
        client.end(errorResponse(`unsupported startup parameter: ${unsupported}`));
        return;
      }
      const upstream = net.connect({ host: target.host, port: target.port });
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.write(head);
      client.pipe(upstream);
      passLogin(upstream, client, keys);
    };
    client.on('data', firstMessage);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    refused,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
