// `sync` asks Zendesk who its credentials belong to before it queues anything, so that wrong
// credentials stop it with nothing changed, instead of leaving every ticket it was given queued
// with a 401. It asks /users/me, which costs nothing from the conversation-log budget, so that
// re-syncing an unchanged ticket still costs that budget one request.
import { errorMessage, Unauthorized } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { fetchWithRetries } from './fetch-with-retries.ts';
import { zendeskHttpInfo, type ZendeskHttp } from './http.ts';
import { localBudget } from './rate-limit.ts';

export interface CredentialCheck {
  http: ZendeskHttp;
  log?: Logger;
  signal?: AbortSignal;
}

/**
 * Rejects with Unauthorized, naming `whatWaits`, only when Zendesk refuses the credentials (or
 * takes them for an anonymous visitor). Any other outcome (Zendesk down, a proxy that does not
 * know the endpoint) is left to the sync, which meets it with its own retries.
 */
export async function checkCredentials(check: CredentialCheck, whatWaits: string): Promise<void> {
  const log = check.log ?? silentLogger;
  const info = zendeskHttpInfo(check.http);
  const where = info?.host ? ` at ${info.host}` : '';
  try {
    await fetchWithRetries(
      {
        http: check.http,
        // The account-wide limit (700 a minute) is far away; one request needs no shared budget.
        budget: localBudget(),
        signal: check.signal,
        log,
        maxAttempts: 2,
        retryBaseMs: 500,
        maxBackoffMs: 2_000,
        maxServerRetryAfterMs: 5_000,
        logName: 'credential check',
        rateLimitOf: (response) => ({ status: response.status }),
      },
      {
        path: 'api/v2/users/me.json',
        searchParams: new URLSearchParams(),
        context: { host: info?.host, timeoutMs: info?.timeoutMs, secrets: info?.secrets },
        page: 1,
        validate: (value) => {
          const id = (value as { user?: { id?: unknown } } | null)?.user?.id;
          if (id === null || id === undefined) {
            throw new Unauthorized(`Zendesk${where} took the credentials for an anonymous visitor; check ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN`);
          }
          return id;
        },
      },
    );
  } catch (error) {
    if (error instanceof Unauthorized) {
      throw new Unauthorized(`${error.message}; ${whatWaits}`, { status: error.status }, { cause: error });
    }
    log.debug({ err: errorMessage(error) }, 'credential check: no verdict; the sync will meet this too');
  }
}
