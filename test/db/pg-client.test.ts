// A connection of convlog's own (quietClient): a server going away fails what it was doing and
// nothing else (its 'error' event, unheard, would end the process), and TCP keepalive is on.
import { afterEach, expect, it } from 'vitest';
import { quietClient } from '../../src/db/pg-client.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { tcpConnections } from '../helpers/tcp-sockets.ts';

let database: TestDatabase | undefined;
let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.cut();
  await database?.close();
  database = proxy = undefined;
});

it('fails its query when the server goes away, without an unheard error event, and keeps its socket alive', async () => {
  database = await createTestDatabase();
  const direct = new URL(database.url);
  proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const viaProxy = new URL(database.url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);

  const client = quietClient({ connectionString: viaProxy.toString() });
  await client.connect();
  expect(tcpConnections(process.pid, proxy.port)).toEqual([{ localPort: expect.any(Number), keepalive: true }]);
  // Seen without a listener of the test's own: quietClient's must be the one that hears it.
  const emitted: (string | symbol)[] = [];
  const emit = client.emit.bind(client);
  client.emit = (event: string | symbol, ...args: unknown[]) => {
    emitted.push(event);
    return emit(event, ...args);
  };

  const sleeping = client.query('select pg_sleep(30)');
  await proxy.cut();
  await expect(sleeping).rejects.toThrow();
  // The event came, and was heard: unheard, it would have been thrown, failing this run.
  expect(emitted).toContain('error');
  await client.end().catch(() => {});
});
