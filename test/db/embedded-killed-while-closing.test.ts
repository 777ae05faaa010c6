// A command that fails on a connection its server's kill ended closes at once, while the server's
// pid may still show for a moment (a busy machine): its end must still be seen, so that the
// command gives that one line (exit 2), not the dropped connection it met first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { createLogger } from '../../src/log.ts';
import { withinTime } from '../../src/timing.ts';
import { createEmbeddedCluster, type EmbeddedCluster } from '../helpers/embedded-cluster.ts';
import { textSink } from '../helpers/cli.ts';

let cluster: EmbeddedCluster;
beforeAll(async () => {
  cluster = await createEmbeddedCluster('convlog-killed-closing-');
}, 180_000);
afterAll(async () => {
  await cluster?.remove();
});

describe('an embedded Postgres killed as the command using it closes', { timeout: 120_000 }, () => {
  it('is seen gone when its pid outlives its connections: stop waits for the pid of a server that no longer answers', async () => {
    const server = await cluster.startServer();
    const postmaster = cluster.postmaster()!;
    const log = createLogger('warn', { destination: textSink().stream, pretty: false });
    const embedded = await startEmbeddedPostgres(cluster.dataDir, log);
    expect(embedded.shared).toBe(true);
    try {
      // Stopped, it answers nothing and its pid stays: the moment between a kill and the pid's end, drawn out.
      process.kill(postmaster, 'SIGSTOP');
      const closing = embedded.stop();
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      process.kill(postmaster, 'SIGKILL');
      expect(await withinTime(embedded.gone, 10_000)).toMatch(/the embedded Postgres in .* stopped \(.*\); run the command again/);
      expect(embedded.checkGone(), 'a connection error after the close must not be reported as a live server\'s').toBe(true);
      await closing;
    } finally {
      server.kill('SIGKILL');
      await server.exited;
    }
  });
});
