// The schema pg-boss keeps convlog's queue in, and the refusal of one another application made.
// pg-boss migrates the schema it finds at start-up to its own version. In a database where an
// application runs an older pg-boss in schema `pgboss`, convlog's first command would upgrade
// that application's queue under it; such a schema is told apart by its version, older than any
// convlog release has installed.
import type pg from 'pg';
import { ConfigError } from '../errors/convlog-errors.ts';

export const BOSS_SCHEMA = 'pgboss';

/** pg-boss's schema version in convlog's first release (pg-boss 12.38): none older was ever convlog's. */
const FIRST_CONVLOG_BOSS_VERSION = 46;

/** Refuses, before anything is migrated, a `pgboss` schema of another application's pg-boss. */
export async function refuseForeignBossSchema(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ found: boolean }>(`select to_regclass($1) is not null as found`, [`${BOSS_SCHEMA}.version`]);
  if (!rows[0].found) return;
  // Identifiers cannot be parameters; BOSS_SCHEMA is our own constant.
  const { rows: versions } = await client.query<{ version: number | null }>(`select max(version::text::int) as version from ${BOSS_SCHEMA}.version`);
  // An aggregate's one row; null when the table is empty (pg-boss not yet installed in it).
  const { version } = versions[0];
  if (version === null || version >= FIRST_CONVLOG_BOSS_VERSION) return;
  throw new ConfigError(
    `schema ${BOSS_SCHEMA} holds another application's pg-boss queue (schema version ${version}, older than any convlog release has used): convlog would upgrade it to its own pg-boss's, under that application; give convlog a database of its own (DATABASE_URL): nothing was changed`,
  );
}
