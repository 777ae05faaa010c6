// Which Zendesk account a database holds. Ticket ids, event references, authors, groups and the
// export's cursor all mean something only within one account, so a database that took another's
// tickets would mix two accounts' conversations under the same ids without a word. The address
// is kept in convlog.sync_state (its other keys: src/db/sync-state.ts) by the first command that
// reaches Zendesk, and compared by every later one.
import { sql } from 'drizzle-orm';
import type { Db } from './connection.ts';
import { syncState } from './schema.ts';
import { EXPORT_POSITION_KEY, read } from './sync-state.ts';
import { inTransaction } from './transaction.ts';

const ACCOUNT_KEY = 'zendesk_account';
const recordOf = (address: string) =>
  sql`jsonb_build_object('address', ${address}::text, 'since', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))`;

export interface ZendeskAccount {
  /** The account's address as src/commands/zendesk-account.ts derives it: `acme.zendesk.com`. */
  address: string;
  /** When it was recorded (ISO). */
  since: string;
}

export type AccountCheck =
  | { outcome: 'recorded' | 'same' | 'replaced' | 'readdressed'; account: ZendeskAccount; previous?: ZendeskAccount }
  | { outcome: 'other'; account: ZendeskAccount };

export function loadZendeskAccount(db: Db): Promise<ZendeskAccount | null> {
  return read<ZendeskAccount>(db, ACCOUNT_KEY);
}

/**
 * Records `address` as the database's account when none is, or when the one recorded left no data
 * (a mistyped subdomain that never answered, a database emptied by purges): `recorded` or
 * `replaced`. `same` when it is the one recorded. `other`, changing nothing, when the database
 * holds events, ticket rows or an export cursor (a start time alone is no account's) from the
 * account recorded. `earlier`: another address of the same account, recorded by an earlier
 * version, replaced by `address` (`readdressed`). Concurrent callers take turns on the row: each
 * sees what the one before it recorded.
 */
export function checkZendeskAccount(db: Db, address: string, earlier?: string): Promise<AccountCheck> {
  return inTransaction(db, async (tx) => {
    const inserted = await tx.execute<{ value: ZendeskAccount }>(sql`
      insert into ${syncState} (key, value) values (${ACCOUNT_KEY}, ${recordOf(address)})
      on conflict (key) do nothing returning value`);
    if (inserted.rows[0]) return { outcome: 'recorded', account: inserted.rows[0].value };
    const { recorded, holdsData } = (await recordedAccount(tx, { lock: true }))!;
    if (recorded.address === address) return { outcome: 'same', account: recorded };
    if (recorded.address === earlier) return { outcome: 'readdressed', account: await saveZendeskAccount(tx, address), previous: recorded };
    if (holdsData) return { outcome: 'other', account: recorded };
    return { outcome: 'replaced', account: await saveZendeskAccount(tx, address), previous: recorded };
  });
}

/**
 * The account recorded when the database holds its data and it is not `address`'s (nor
 * `earlier`'s: checkZendeskAccount), else null;
 * nothing written: what a command that checks Zendesk before recording compares first.
 */
export async function otherAccountHeld(db: Db, address: string, earlier?: string): Promise<ZendeskAccount | null> {
  const found = await recordedAccount(db, { lock: false });
  return found && found.holdsData && found.recorded.address !== address && found.recorded.address !== earlier ? found.recorded : null;
}

async function recordedAccount(db: Db, options: { lock: boolean }): Promise<{ recorded: ZendeskAccount; holdsData: boolean } | undefined> {
  const { rows } = await db.execute<{ value: ZendeskAccount; holds_data: boolean }>(sql`
    select value,
           exists (select from zendesk.conversation_events)
             or exists (select from zendesk.tickets)
             or exists (select from ${syncState} where key = ${EXPORT_POSITION_KEY} and value->>'cursor' is not null) as holds_data
      from ${syncState} where key = ${ACCOUNT_KEY} ${options.lock ? sql`for update` : sql``}`);
  return rows[0] && { recorded: rows[0].value, holdsData: rows[0].holds_data };
}

/** Records `address` whatever was recorded: the same account at a new address (`convlog account --set`). */
export async function saveZendeskAccount(db: Db, address: string): Promise<ZendeskAccount> {
  const { rows } = await db.execute<{ value: ZendeskAccount }>(sql`
    insert into ${syncState} (key, value) values (${ACCOUNT_KEY}, ${recordOf(address)})
    on conflict (key) do update set value = excluded.value, updated_at = now() returning value`);
  return rows[0].value;
}
