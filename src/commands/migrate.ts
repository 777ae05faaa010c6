import { openCommandDatabase } from './runtime.ts';
import { migrateDatabase } from '../db/migrate.ts';
import type { Command } from './types.ts';
import { counted } from '../text.ts';

export const migrate: Command = {
  usage: 'convlog migrate',
  options: {},
  async run(_values, _positionals, ctx) {
    const database = await openCommandDatabase(ctx, ctx.config(), { migrate: false, poolSize: 1 });
    try {
      const { applied } = await migrateDatabase(database.pool, ctx.log);
      ctx.out(applied > 0 ? `applied ${counted(applied, 'migration')} to the database (${database.shownAs})` : `the database (${database.shownAs}) is up to date`);
      return 0;
    } finally {
      await database.close();
    }
  },
};
