// One database, one Zendesk account: every command that reaches Zendesk (sync, work, backfill,
// enqueue and serve with credentials, the demo) first compares the account it is configured for
// with the one the database holds (src/db/zendesk-account.ts). A sandbox's tickets synced into
// production's database, or the simulator's into a real one, would share ticket ids with the real
// tickets and be counted with them by every view.
import type { Config } from '../config.ts';
import type { Database } from '../db/connection.ts';
import { loadDemoRun } from '../db/sync-state.ts';
import { checkZendeskAccount, otherAccountHeld } from '../db/zendesk-account.ts';
import { ConfigError } from '../errors/convlog-errors.ts';
import type { Logger } from '../log.ts';
import { zendeskUrlSetting } from '../zendesk/responses.ts';

/**
 * What names an account: the host and any path of its base URL, without scheme (an http:// proxy
 * is the same account as https://). A remote port is only the way to the account and is dropped;
 * on this machine each port is a server of its own (two simulators of different seeds, a proxy to
 * a real account) and is kept, but for the demo's simulator (`anyPort`), which listens on a new
 * port each run.
 */
export function accountAddress(baseUrl: string, { anyPort = false }: { anyPort?: boolean } = {}): string {
  const url = new URL(baseUrl);
  const path = url.pathname.replace(/\/+$/, '');
  const host = url.hostname.toLowerCase();
  const port = url.port && !anyPort && LOCAL_HOST.test(host) ? `:${url.port}` : '';
  return `${host}${port}${path}`;
}

const LOCAL_HOST = /^(127\.|localhost$|\[::1\]$)/;

/**
 * The address a database outside the demo's may hold for `baseUrl`'s account beside its own:
 * before ports on this machine were told apart, a local server was recorded without its port.
 * The demo's database holds its own simulator's tickets, which no other server's are.
 */
async function portlessAddress(database: Database, baseUrl: string): Promise<string | undefined> {
  const portless = accountAddress(baseUrl, { anyPort: true });
  if (portless === accountAddress(baseUrl) || (await loadDemoRun(database.db)) !== null) return undefined;
  return portless;
}

/**
 * The configured account's address, and whether the database's recorded account is it: a local
 * server recorded without its port (portlessAddress) is, and is recorded again with it.
 */
export async function configuredAccount(database: Database, baseUrl: string, demo = false): Promise<{ address: string; isRecorded: (recorded: string) => boolean; earlier?: string }> {
  const address = accountAddress(baseUrl, { anyPort: demo });
  const earlier = demo ? undefined : await portlessAddress(database, baseUrl);
  return { address, earlier, isRecorded: (recorded) => recorded === address || recorded === earlier };
}

/** The command that records the configured address as the same account's: the refusals below point to it. */
export const SET_ACCOUNT = 'npx convlog account --set';

/**
 * Records the configured account as the database's, or refuses (ConfigError, exit 2, nothing
 * changed) when the database holds another account's data. A config without Zendesk settings
 * has no account to compare. `beforeRecording` (a check that the address answers) runs after the
 * comparison, so that another account's database is refused first, and before anything is
 * recorded. `demo`: the demo's simulator, whatever its port.
 */
export async function requireZendeskAccount(
  database: Database,
  config: Config,
  log: Logger,
  { beforeRecording, demo = false }: { beforeRecording?: () => Promise<void>; demo?: boolean } = {},
): Promise<void> {
  if (!config.zendesk) return;
  const { address, earlier } = await configuredAccount(database, config.zendesk.baseUrl, demo);
  const setting = () => zendeskUrlSetting(config.zendesk!.baseUrl);
  if (beforeRecording) {
    const held = await otherAccountHeld(database.db, address, earlier);
    if (held) throw otherAccount(database, held, address, setting());
    await beforeRecording();
  }
  const check = await checkZendeskAccount(database.db, address, earlier);
  if (check.outcome === 'other') throw otherAccount(database, check.account, address, setting());
  if (check.outcome === 'recorded') log.info({ account: address }, `recorded ${address} as the Zendesk account this database holds`);
  if (check.outcome === 'replaced') {
    log.info({ account: address, previous: check.previous?.address }, `recorded ${address} as the Zendesk account this database holds, in place of ${check.previous?.address}, of which it holds no data`);
  }
  if (check.outcome === 'readdressed') {
    log.info({ account: address, previous: check.previous?.address }, `recorded ${address} as the Zendesk account this database holds, which it held as ${check.previous?.address} (recorded without the port of a server on this machine)`);
  }
}

function otherAccount(database: Database, recorded: { address: string; since: string }, address: string, setting: string): ConfigError {
  // The simulator's tickets, synced while trying convlog out, are the likeliest of these.
  const local = /^(127\.|localhost|\[::1\])/.test(recorded.address) ? ', a server on this machine such as the simulator' : '';
  return new ConfigError(
    `the database (${database.shownAs}) holds the tickets of the Zendesk account at ${recorded.address}${local} (since ${recorded.since}), and ${setting} names ${address}: ` +
      'nothing was changed. Give that account a database of its own (DATABASE_URL, or CONVLOG_DATA_DIR on the embedded default); ' +
      `if it is the same account at a new address (a renamed subdomain, a host mapping, a proxy), "${SET_ACCOUNT}" records it`,
  );
}
