// The Postgres servers and databases convlog runs on. An older server, or a database not encoded
// UTF8, is refused when the command connects, before anything is migrated: Postgres 12, say,
// accepted every migration and then failed the first sync with "function gen_random_uuid() does
// not exist" (pg-boss needs 13); a LATIN1 database took the migrations and then failed every ticket
// whose text held a character beyond Latin-1 (an emoji, a dash), each after all its retries.
import { ConfigError } from '../errors/convlog-errors.ts';

/** The oldest release the whole test suite has passed on (docs/operations.md, "Postgres versions"). */
export const OLDEST_SERVER = { num: 130_000, name: '13' } as const;

export interface ServerVersion {
  /** `server_version_num`: 170004 for 17.4, 120022 for 12.22. */
  num: number;
  /** `server_version` as the server reports it ("17.4", "15.18 (Debian 15.18-0+deb12u1)"). */
  version: string;
  /** The database's encoding (`server_encoding`): UTF8, LATIN1, SQL_ASCII, ... */
  encoding: string;
}

export const SERVER_VERSION_SQL = `select current_setting('server_version_num')::int as num, current_setting('server_version') as version, current_setting('server_encoding') as encoding`;

/**
 * The one line for a server older than OLDEST_SERVER or a database not encoded UTF8, or undefined.
 * `where` is host:port/database. SQL_ASCII stores any byte, but refuses JSON's \u escapes of
 * characters beyond ASCII, which Zendesk sends.
 */
export function unsupportedServer(server: ServerVersion, where: string): ConfigError | undefined {
  if (server.num < OLDEST_SERVER.num) {
    return new ConfigError(`${where} runs Postgres ${server.version}, and convlog needs Postgres ${OLDEST_SERVER.name} or later: nothing was changed in it`);
  }
  if (server.encoding !== 'UTF8') {
    return new ConfigError(
      `${where} is a database encoded ${server.encoding}, and convlog needs one encoded UTF8, for the characters of every language Zendesk's text holds: nothing was changed in it; create one with CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0`,
    );
  }
  return undefined;
}
