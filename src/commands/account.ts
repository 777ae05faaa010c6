// `convlog account`: which Zendesk account the database holds (src/commands/zendesk-account.ts),
// and `--set` for the one change the check cannot tell from a mistake: the same account at a new
// address. The new address must answer with the configured credentials before it is recorded.
import { loadZendeskAccount, saveZendeskAccount } from '../db/zendesk-account.ts';
import { checkCredentials } from '../zendesk/credentials.ts';
import { createZendeskHttp } from '../zendesk/index.ts';
import { zendeskUrlSetting } from '../zendesk/responses.ts';
import { openCommandDatabase } from './runtime.ts';
import type { Command } from './types.ts';
import { configuredAccount, SET_ACCOUNT } from './zendesk-account.ts';

export const account: Command = {
  usage: 'convlog account [--set]   (--set: record the configured ZENDESK_SUBDOMAIN or ZENDESK_BASE_URL as the same account at a new address)',
  options: { set: { type: 'boolean' } },
  async run(values, _positionals, ctx) {
    const set = Boolean(values.set);
    const config = ctx.config({ needZendesk: set });
    if (set) await checkCredentials({ http: createZendeskHttp(config.zendesk!, { log: ctx.log }), log: ctx.log, signal: ctx.signal }, 'nothing was recorded');
    const database = await openCommandDatabase(ctx, config);
    try {
      const recorded = await loadZendeskAccount(database.db);
      const configured = config.zendesk ? await configuredAccount(database, config.zendesk.baseUrl) : undefined;
      if (set) {
        // Its date says since when the database holds that account: recorded again, it moved to now.
        if (recorded?.address === configured!.address) {
          ctx.out(`the database (${database.shownAs}) holds ${recorded.address} already (since ${recorded.since}); nothing was changed`);
          return 0;
        }
        const now = await saveZendeskAccount(database.db, configured!.address);
        const was = recorded && recorded.address !== now.address ? ` in place of ${recorded.address}` : '';
        ctx.out(`recorded ${now.address} as the Zendesk account the database (${database.shownAs}) holds${was}`);
        return 0;
      }
      if (!recorded) {
        ctx.out(`the database (${database.shownAs}) holds no Zendesk account's tickets yet: the first sync, work, backfill, enqueue or serve records the one it reaches`);
        return 0;
      }
      ctx.out(`the database (${database.shownAs}) holds the tickets of the Zendesk account at ${recorded.address} (since ${recorded.since})`);
      if (configured && !configured.isRecorded(recorded.address)) {
        ctx.out(
          `${zendeskUrlSetting(config.zendesk!.baseUrl)} names ${configured.address}: the commands that reach Zendesk refuse it while this database holds that account's tickets ` +
            `(if it is the same account at a new address, "${SET_ACCOUNT}" records it)`,
        );
      }
      return 0;
    } finally {
      await database.close();
    }
  },
};
