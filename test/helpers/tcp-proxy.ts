// A TCP proxy in front of a Postgres, which a test cuts to make that Postgres unreachable for the
// processes connected through it: open connections are reset and new ones refused, as when the
// server stops, while the suite's shared server and the test's own pool go on. Or silences it: the
// connections stay open and new ones are accepted, but nothing more gets through either way, as
// when a network drops every packet (no reset ever comes) or the server froze, and then lets new
// connections through again; or lets new connections log in and then stalls them.
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Resets every connection through the proxy and refuses new ones. */
  cut(): Promise<void>;
  /**
   * From now on forwards nothing and closes nothing: what is sent is taken and dropped (the
   * sender's TCP sees it delivered, so its keepalive finds the peer alive), and new connections
   * are accepted and left unanswered.
   */
  silence(): void;
  /**
   * Silences (as silence()) once a client has sent a message holding `text`, that message
   * delivered: a test that needs a connection silenced mid-transaction, past a given statement,
   * gets it every time, not when a look at the server happens to fall between two statements.
   */
  silenceAfter(text: string): void;
  /**
   * After silence(): new connections get through again, while those silenced stay silent, as
   * when the way back to the server returns but the state of the connections on it was lost.
   */
  restore(): void;
  /**
   * New connections from now on get through their login (the client's first message, the start-up
   * packet, and every answer), then the server hears nothing more: a query waits for ever.
   */
  stallAfterLogin(): void;
  /**
   * Once a client has sent a message holding `text`, resets every connection and refuses new ones
   * for `downMs`, then lets them through again: a server restarting just as that statement runs.
   */
  restartAfter(text: string, downMs: number): void;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const pairs = new Set<[net.Socket, net.Socket]>();
  let silent = false;
  let stalling = false;
  let trigger: Buffer | undefined;
  let restartTrigger: { text: Buffer; downMs: number } | undefined;
  let refuseUntil = 0;
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  };
  // Read on and drop: the bytes leave the sender's buffers, as on a path that loses them after.
  const swallow = (socket: net.Socket) => {
    socket.on('data', () => {});
    socket.resume();
  };
  // Half-open allowed: an end is passed on by hand, and not at all once silenced (a FIN is lost too).
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    track(client);
    if (Date.now() < refuseUntil) return void client.resetAndDestroy();
    if (silent) return swallow(client);
    const upstream = net.connect({ port: target.port, host: target.host, allowHalfOpen: true });
    track(upstream);
    if (stalling) {
      client.once('data', (startup) => {
        upstream.write(startup);
        swallow(client);
      });
    } else {
      client.pipe(upstream, { end: false });
      // After the pipe's own listener: the message that trips it is passed on first.
      client.on('data', (chunk: Buffer) => {
        if (trigger && chunk.includes(trigger)) {
          trigger = undefined;
          proxy.silence();
        }
        if (restartTrigger && chunk.includes(restartTrigger.text)) {
          refuseUntil = Date.now() + restartTrigger.downMs;
          restartTrigger = undefined;
          for (const socket of sockets) socket.resetAndDestroy();
        }
      });
    }
    upstream.pipe(client, { end: false });
    client.on('end', () => silent || upstream.end());
    upstream.on('end', () => silent || client.end());
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    client.on('close', () => pairs.delete(pair));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: TcpProxy = {
    port: (server.address() as net.AddressInfo).port,
    async cut() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.resetAndDestroy();
      await closed;
    },
    restore() {
      silent = false;
    },
    stallAfterLogin() {
      stalling = true;
    },
    restartAfter(text, downMs) {
      restartTrigger = { text: Buffer.from(text), downMs };
    },
    silenceAfter(text) {
      trigger = Buffer.from(text);
    },
    silence() {
      silent = true;
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        swallow(client);
        swallow(upstream);
      }
    },
  };
  return proxy;
}
