// One database, one Zendesk account: every command that reaches Zendesk (sync, work, backfill,
// enqueue and serve with credentials, the demo) first compares the account it is configured for
// with the one the database holds (src/db/zendesk-account.ts). A sandbox's tickets synced into
// production's database, or the simulator's into a real one, would share ticket ids with the real
// tickets and be counted with them by every view.
import type { Config } from '../config.ts';
import type { Database } from '../db/connection.ts';
import { checkZendeskAccount, otherAccountHeld } from '../db/zendesk-account.ts';
import { ConfigError } from '../errors/convlog-errors.ts';
import type { Logger } from '../log.ts';
import { zendeskUrlSetting } from '../zendesk/responses.ts';

/**
 * What names an account: the host and any path of its base URL, without scheme or port (the
 * simulator listens on a new port each run, and an http:// proxy is the same account as https://).
 */
export function accountAddress(baseUrl: string): string {
  const url = new URL(baseUrl);
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.hostname.toLowerCase()}${path}`;
}

/** The command that records the configured address as the same account's: the refusals below point to it. */
export const SET_ACCOUNT = 'npx convlog account --set';

/**
 * Records the configured account as the database's, or refuses (ConfigError, exit 2, nothing
 * changed) when the database holds another account's data. A config without Zendesk settings
 * has no account to compare. `beforeRecording` (a check that the address answers) runs after the
 * comparison, so that another account's database is refused first, and before anything is recorded.
 */
export async function requireZendeskAccount(database: Database, config: Config, log: Logger, beforeRecording?: () => Promise<void>): Promise<void> {
  if (!config.zendesk) return;
  const address = accountAddress(config.zendesk.baseUrl);
  const setting = () => zendeskUrlSetting(config.zendesk!.baseUrl);
  if (beforeRecording) {
    const held = await otherAccountHeld(database.db, address);
    if (held) throw otherAccount(database, held, address, setting());
    await beforeRecording();
  }
  const check = await checkZendeskAccount(database.db, address);
  if (check.outcome === 'other') throw otherAccount(database, check.account, address, setting());
  if (check.outcome === 'recorded') log.info({ account: address }, `recorded ${address} as the Zendesk account this database holds`);
  if (check.outcome === 'replaced') {
    log.info({ account: address, previous: check.previous?.address }, `recorded ${address} as the Zendesk account this database holds, in place of ${check.previous?.address}, of which it holds no data`);
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
