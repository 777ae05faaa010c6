// `convlog grant-readonly`: the role's SQL and its checks are in src/db/readonly-role.ts; this
// command prints the SQL (`--print`) or runs it and says what the role may now do.
import { DEFAULT_READONLY_ROLE } from '../config.ts';
import { openCommandDatabase } from './runtime.ts';
import { checkRoleName, grantReadonlyRole, PRIVATE_SCHEMAS, readonlyRoleSql } from '../db/readonly-role.ts';
import { UsageError } from '../errors/convlog-errors.ts';
import type { Command } from './types.ts';

export const grantReadonly: Command = {
  usage: 'convlog grant-readonly [ROLE] [--print]',
  options: { print: { type: 'boolean' } },
  allowPositionals: true,
  async run(values, positionals, ctx) {
    if (positionals.length > 1) throw new UsageError(`give one role name, not ${positionals.length}`);
    const role = checkRoleName(positionals[0] ?? DEFAULT_READONLY_ROLE);
    if (values.print) {
      ctx.out(readonlyRoleSql(role));
      return 0;
    }
    // Migrating first means every table and view that exists now is granted.
    const config = ctx.config();
    const database = await openCommandDatabase(ctx, config, { poolSize: 1 });
    try {
      const { canLogin } = await grantReadonlyRole(database.pool, role);
      // The port of an embedded server this command started is gone once it ends: name the folder
      // alone then, and with db-server's address while that one runs it.
      const where = database.embedded
        ? `the embedded Postgres${database.embedded === 'shared' ? ` at ${database.where}` : ''} (data in ${config.dataDir})`
        : database.where;
      ctx.out(`${role} may now read schema zendesk in ${where}: SELECT on every table and view, also those later migrations add; no writes, and no access to ${PRIVATE_SCHEMAS.join(', ')}.`);
      if (!canLogin) {
        ctx.out(`${role} cannot log in itself; give each BI tool a login in it, e.g.:`);
        ctx.out(`  CREATE ROLE metabase LOGIN PASSWORD '<a new password>' IN ROLE ${role};`);
        if (database.embedded === 'own') {
          ctx.out('the embedded Postgres stops with this command: run "npx convlog db-server" for a URL to run that with psql (or a BI tool to use)');
        }
      }
      return 0;
    } finally {
      await database.close();
    }
  },
};
