// A TCP proxy in front of a Postgres that reads each client's start-up packet as PgBouncer does
// with its default settings: a parameter outside the few it keeps track of (and an empty
// ignore_startup_parameters) is refused with an ErrorResponse, "unsupported startup parameter: X",
// and the connection closed; any other start-up is passed on, and the connection with it. It
// stands in for a PgBouncer the suite does not have (docs/operations.md, "Behind PgBouncer").
import net from 'node:net';

/**
 * The start-up parameters PgBouncer 1.18 takes unasked: the login, those it keeps track of (its
 * pgbouncer.ini(5), ignore_startup_parameters) and application_name, which it tracks too.
 */
const ACCEPTED = new Set(['user', 'database', 'client_encoding', 'datestyle', 'timezone', 'standard_conforming_strings', 'application_name']);

const PROTOCOL_3 = 196_608;

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

export async function startStartupCheckingProxy(target: { host: string; port: number }): Promise<StartupCheckingProxy> {
  const refused: string[] = [];
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
      if (head.length === 8 && head.readInt32BE(4) === 80_877_103) {
        head = Buffer.alloc(0);
        client.write('N');
        client.on('data', firstMessage);
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
      upstream.pipe(client);
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
