// How many more connections this login may open to this database: the server's max_connections
// (less the slots reserved for superusers and, from Postgres 16, reserved_connections), and any
// CONNECTION LIMIT on the database or the login, each less what other sessions hold. A worker kept
// under what it opens does not fail outright: its statements wait for a connection or are refused
// and retried, and it syncs slowly with a log full of retries. So the processes that work the queue
// say it once, when they start. A superuser is bound by max_connections alone and has reserved
// slots, so it is not told.
import type pg from 'pg';

export interface ConnectionRoom {
  /** Connections this login may still open here, counting the ones this process holds as free. */
  free: number;
  /** The limit that leaves the fewest: "max_connections 100", "CONNECTION LIMIT 20 on database convlog". */
  limit: string;
  /** Sessions of others that count against that limit. */
  heldByOthers: number;
}

const ROOM_SQL = `
  select r.rolsuper as superuser, current_database() as database, current_user as role,
         current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
           - coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0) as server_limit,
         (select count(*) from pg_stat_activity where backend_type = 'client backend')::int as server_used,
         d.datconnlimit as database_limit,
         (select count(*) from pg_stat_activity where datid = d.oid and backend_type = 'client backend')::int as database_used,
         r.rolconnlimit as role_limit,
         (select count(*) from pg_stat_activity where usesysid = r.oid and backend_type = 'client backend')::int as role_used
    from pg_database d, pg_roles r
   where d.datname = current_database() and r.rolname = current_user`;

interface RoomRow {
  superuser: boolean;
  database: string;
  role: string;
  server_limit: number;
  server_used: number;
  database_limit: number;
  database_used: number;
  role_limit: number;
  role_used: number;
}

/**
 * The room left under the tightest limit, `own` being the connections this process holds now (its
 * pool's), or undefined for a superuser.
 */
export async function connectionRoom(pool: pg.Pool, own: number): Promise<ConnectionRoom | undefined> {
  const { rows } = await pool.query<RoomRow>(ROOM_SQL);
  const row = rows[0];
  if (!row || row.superuser) return undefined;
  const limits = [
    { limit: row.server_limit, used: row.server_used, name: `max_connections (less the slots reserved), ${row.server_limit}` },
    { limit: row.database_limit, used: row.database_used, name: `CONNECTION LIMIT ${row.database_limit} on database ${row.database}` },
    { limit: row.role_limit, used: row.role_used, name: `CONNECTION LIMIT ${row.role_limit} on login ${row.role}` },
  ].filter((l) => l.limit >= 0);
  const rooms = limits.map((l) => ({ free: l.limit - Math.max(0, l.used - own), limit: l.name, heldByOthers: Math.max(0, l.used - own) }));
  return rooms.reduce((tightest, room) => (room.free < tightest.free ? room : tightest));
}
