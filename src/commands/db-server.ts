// `convlog db-server`: every other command stops the embedded Postgres when it ends (unless
// another convlog command still uses it), so without a server of one's own nothing could read what
// was synced. This one keeps it up, migrated, and prints how to connect, until Ctrl-C or SIGTERM.
import type { LeaveOutcome } from '../db/cluster-handoff.ts';
import { openDatabase } from '../db/connection.ts';
import { EMBEDDED_DATABASE } from '../db/embedded.ts';
import { embeddedUrl } from '../db/embedded-server.ts';
import { clusterPassword } from '../db/cluster-password.ts';
import { serveEmbeddedPostgres } from '../db/serve-embedded.ts';
import { DatabaseUnavailable } from '../errors/convlog-errors.ts';
import { portFlag } from './args.ts';
import { unlessStoppedStarting } from './runtime.ts';
import type { Command, CommandContext } from './types.ts';

export const dbServer: Command = {
  usage: 'convlog db-server [--port N]',
  options: { port: { type: 'string' } },
  stopping: 'the embedded Postgres stops unless other convlog commands still use it; the data stays',
  async run(values, _positionals, ctx) {
    const port = values.port === undefined ? undefined : portFlag('--port', values.port);
    const config = ctx.config();
    if (config.databaseUrl) {
      ctx.out(`DATABASE_URL already names a Postgres server (${withoutPassword(config.databaseUrl)}): connect to it directly, e.g. psql "$DATABASE_URL"; db-server only serves the embedded default`);
      return 0;
    }

    const server = await unlessStoppedStarting(ctx, serveEmbeddedPostgres(config.dataDir, port, ctx.log, ctx.signal), 'db-server stopped before the embedded Postgres was up');
    if (!server) return 0;
    let stopped: LeaveOutcome;
    try {
      // Shares the server this process serves, creates the database, migrates. Kept open until
      // the end: closed now, a server whose owner (another command) ended meanwhile and left it
      // to this one would be stopped as no longer used (lastOut, src/db/cluster-handoff.ts).
      const database = await openDatabase(config, ctx.log, { poolSize: 1 });
      try {
        const ignored = port !== undefined && port !== server.port ? `; --port ${port} is ignored` : '';
        if (server.how.kind === 'adopted') {
          ctx.out(`the embedded Postgres in ${config.dataDir} was left running by a convlog process that ended without stopping it: db-server takes it over${ignored}`);
        } else if (server.how.kind === 'shared') {
          ctx.out(
            `the embedded Postgres in ${config.dataDir} is already running (postgres pid ${server.pid}), started by another convlog process (pid ${server.how.owner.pid}): ` +
              `db-server shares it and keeps it up until stopped, the last convlog command using it stopping it${ignored}`,
          );
        }
        ctx.out(`embedded Postgres up, data in ${config.dataDir}; it listens on 127.0.0.1 only (this machine):`);
        printConnection(ctx, config.dataDir, server.port);
        ctx.out('the synced tables and views are in schema zendesk; convlog commands run meanwhile share this server');
        ctx.out('no psql? npx convlog query "select …" (add --csv for CSV)');
        ctx.out('Ctrl-C stops it; the data stays');

        const ended = await Promise.race([
          server.ended.then(() => true),
          new Promise<false>((resolve) => {
            if (ctx.signal.aborted) resolve(false);
            ctx.signal.addEventListener('abort', () => resolve(false), { once: true });
          }),
        ]);
        if (ended && !ctx.signal.aborted) {
          throw new DatabaseUnavailable(`the embedded Postgres (pid ${server.pid}) stopped on its own; run convlog db-server again`);
        }
      } finally {
        await database.close();
      }
    } finally {
      stopped = await server.stop();
    }
    ctx.stderr.write(`${STOPPED_LINES[stopped]}\n`);
    return 0;
  },
};

const STOPPED_LINES: Record<LeaveOutcome, string> = {
  stopped: 'embedded Postgres stopped',
  stopping: 'embedded Postgres still shutting down: db-server waits no longer (the warning above says what holds it)',
  left: 'embedded Postgres left running: other convlog commands still use it, and the last of them to end stops it',
};

/** The data folder's own password is printed: this is the one place a person or a BI tool learns it. */
function printConnection(ctx: CommandContext, dataDir: string, port: number): void {
  const url = embeddedUrl(port, EMBEDDED_DATABASE, clusterPassword(dataDir));
  const u = new URL(url);
  ctx.out(`  url       ${url}`);
  ctx.out(`  host ${u.hostname}  port ${u.port}  user ${decodeURIComponent(u.username)}  password ${decodeURIComponent(u.password)}  database ${EMBEDDED_DATABASE}`);
  ctx.out(`  psql "${url}"`);
}

/** The URL to show: the password, if any, hidden. */
function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    // libpq takes them from the query string too.
    for (const key of ['password', 'sslpassword']) if (u.searchParams.has(key)) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
