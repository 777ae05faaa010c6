// The Postgres versions convlog runs on. An older server is refused when the command connects,
// before anything is migrated: Postgres 12, say, accepted every migration and then failed the
// first sync with "function gen_random_uuid() does not exist" (pg-boss needs 13), leaving a
// database half set up and an error that names neither the version nor the way out.
import { ConfigError } from '../errors/convlog-errors.ts';

/** The oldest release the whole test suite has passed on (docs/operations.md, "Postgres versions"). */
export const OLDEST_SERVER = { num: 130_000, name: '13' } as const;

export interface ServerVersion {
  /** `server_version_num`: 170004 for 17.4, 120022 for 12.22. */
  num: number;
  /** `server_version` as the server reports it ("17.4", "15.18 (Debian 15.18-0+deb12u1)"). */
  version: string;
}

export const SERVER_VERSION_SQL = `select current_setting('server_version_num')::int as num, current_setting('server_version') as version`;

/** The one line for a server older than OLDEST_SERVER, or undefined. `where` is host:port/database. */
export function unsupportedServer(server: ServerVersion, where: string): ConfigError | undefined {
  if (server.num >= OLDEST_SERVER.num) return undefined;
  return new ConfigError(
    `${where} runs Postgres ${server.version}, and convlog needs Postgres ${OLDEST_SERVER.name} or later: nothing was changed in it`,
  );
}
