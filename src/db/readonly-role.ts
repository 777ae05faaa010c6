// The read-only role for BI tools and analysts: SELECT on every table and view in schema zendesk,
// now and after later migrations, and nothing else (no writes, no convlog, pgboss or drizzle
// schemas). The same SQL is printed by `convlog grant-readonly --print` for an administrator.
import type pg from 'pg';
import { DEFAULT_READONLY_ROLE } from '../config.ts';
import { ConfigError, UsageError } from '../errors/convlog-errors.ts';
import { quoted } from '../text.ts';

/** Schemas the role must never see: convlog's bookkeeping, the queue and the migration log. */
export const PRIVATE_SCHEMAS = ['convlog', 'pgboss', 'drizzle'];

// Lower case only, so that the name means the same quoted or not in any later SQL.
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

// Postgres's reserved key words (pg_get_keywords() with catcode 'R', Postgres 17). A role so named
// works only in double quotes: the `IN ROLE name` printed for a login would fail, or name another
// role (current_user).
const RESERVED_WORDS = new Set(
  ('all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create ' +
    'current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc ' +
    'distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral ' +
    'leading limit localtime localtimestamp not null offset on only or order placing primary references returning ' +
    'select session_user some symmetric system_user table then to trailing true union unique user using variadic ' +
    'when where window with').split(' '),
);

/** The name, or one UsageError saying why Postgres (or any later SQL) would not take it. */
export function checkRoleName(role: string): string {
  const another = `choose another name, such as ${DEFAULT_READONLY_ROLE}`;
  if (!ROLE_NAME.test(role)) {
    throw new UsageError(`${quoted(role)} is not a usable role name: use lower-case letters, digits and _ (at most 63), starting with a letter or _`);
  }
  // Postgres refuses these itself ("role name ... is reserved"): PUBLIC means every role, NONE no role.
  if (role === 'public' || role === 'none') throw new UsageError(`"${role}" is reserved by Postgres (it means ${role === 'public' ? 'every role' : 'no role'}): ${another}`);
  // And names starting with pg_, those of its built-in roles: granting to pg_read_server_files or
  // pg_monitor would hand their powers to every login made in the role.
  if (role.startsWith('pg_')) throw new UsageError(`"${role}": role names starting with pg_ are reserved for Postgres's built-in roles: ${another}`);
  if (RESERVED_WORDS.has(role)) throw new UsageError(`"${role}" is an SQL key word, a role name only in double quotes: ${another}`);
  return role;
}

/** The SQL, safe to run again: every statement only adds what is missing or removes extras. */
export function readonlyRoleSql(role: string): string {
  const r = `"${checkRoleName(role)}"`;
  const literal = `'${role}'`;
  const schemas = PRIVATE_SCHEMAS.map((s) => `'${s}'`).join(', ');
  return `-- convlog: read-only access to schema zendesk for role ${role}
DO $$
BEGIN
  -- Revoking writes from the role that owns the tables would break convlog itself.
  IF ${literal} = current_user
     OR EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${literal} AND rolsuper)
     OR EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = 'zendesk' AND pg_get_userbyid(nspowner) = ${literal}) THEN
    RAISE EXCEPTION 'role ${role} owns or runs convlog (or is a superuser) and cannot be made read-only: choose another name';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${literal}) THEN
    CREATE ROLE ${r} NOLOGIN;
  END IF;
  IF has_database_privilege(current_database(), 'CONNECT WITH GRANT OPTION') THEN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO ${r}', current_database());
  ELSE
    RAISE WARNING 'may not grant CONNECT on database %: ${role} can connect only if PUBLIC may', current_database();
  END IF;
END $$;
GRANT USAGE ON SCHEMA zendesk TO ${r};
REVOKE CREATE ON SCHEMA zendesk FROM ${r};
GRANT SELECT ON ALL TABLES IN SCHEMA zendesk TO ${r};
REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA zendesk FROM ${r};
-- Tables and views that later migrations create: migrations run as the owner of schema
-- zendesk (the role convlog connects as), so its default privileges cover them.
DO $$
DECLARE creator name;
BEGIN
  FOR creator IN
    SELECT DISTINCT who FROM unnest(ARRAY[
      (SELECT pg_get_userbyid(nspowner) FROM pg_catalog.pg_namespace WHERE nspname = 'zendesk'),
      current_user
    ]) AS who
    WHERE who IS NOT NULL
  LOOP
    IF pg_has_role(creator, 'MEMBER') THEN
      EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA zendesk GRANT SELECT ON TABLES TO ${r}', creator);
    ELSE
      RAISE WARNING 'not a member of role %: tables it creates in zendesk later will need another grant', creator;
    END IF;
  END LOOP;
END $$;
DO $$
DECLARE s name;
BEGIN
  FOR s IN SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname IN (${schemas}) LOOP
    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM ${r}', s);
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM ${r}', s);
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM ${r}', s);
    EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA %I FROM ${r}', s);
  END LOOP;
END $$;
`;
}

/**
 * Creates or completes the role. Says in one line what went wrong when the role is convlog's own
 * (or a superuser) or when the user convlog connects as may not manage roles.
 */
export async function grantReadonlyRole(pool: pg.Pool, role: string): Promise<{ canLogin: boolean }> {
  await pool.query(readonlyRoleSql(role)).catch((error: { code?: string; message?: string }) => {
    // P0001: the SQL's own refusal (the role runs convlog), already in words.
    if (error.code === 'P0001') throw new UsageError(error.message ?? 'refused', { cause: error });
    if (error.code !== '42501') throw error;
    throw new ConfigError(
      `the database user convlog connects as may not do this (${error.message}): give it CREATEROLE, or have an administrator run "npx convlog grant-readonly ${role} --print | psql <admin connection>"`,
      { cause: error },
    );
  });
  const { rows } = await pool.query<{ login: boolean }>('select rolcanlogin as login from pg_roles where rolname = $1', [role]);
  return { canLogin: rows[0]?.login === true };
}
