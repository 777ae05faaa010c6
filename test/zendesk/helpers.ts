// Shared by the pager tests: a client for a simulator, and draining a ticket into one list
// (fine in a test; the pager itself never does this).
import type { ZendeskConfig } from '../../src/config.ts';
import { createZendeskHttp, type ZendeskHttp, type ZendeskHttpOptions } from '../../src/zendesk/http.ts';
import { pageConversationLog, type ConversationLogPageResult, type PageConversationLogOptions } from '../../src/zendesk/conversation-log.ts';
import { localBudget, type RateLimitInfo, type RequestBudget } from '../../src/zendesk/rate-limit.ts';

export const EMAIL = 'agent@example.test';
export const TOKEN = 'zdTok3nS3cretValue9876543210';
export const BASIC = Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64');

export function configFor(baseUrl: string, overrides: Partial<ZendeskConfig> = {}): ZendeskConfig {
  return { baseUrl, auth: { kind: 'token', email: EMAIL, token: TOKEN }, requestTimeoutMs: 5000, ...overrides };
}

export function clientFor(baseUrl: string, overrides: Partial<ZendeskConfig> = {}, options?: ZendeskHttpOptions): ZendeskHttp {
  return createZendeskHttp(configFor(baseUrl, overrides), options);
}

export async function drain(http: ZendeskHttp, ticketId: number, options: PageConversationLogOptions = {}) {
  const pages: ConversationLogPageResult[] = [];
  for await (const page of pageConversationLog(http, ticketId, options)) pages.push(page);
  return { pages, events: pages.flatMap((page) => page.events) };
}

/** The in-process budget, recording what it was told and how often it was asked. */
export function recordingBudget(): RequestBudget & { observed: RateLimitInfo[]; taken: number } {
  const inner = localBudget();
  const budget = {
    observed: [] as RateLimitInfo[],
    taken: 0,
    async take(signal?: AbortSignal) {
      budget.taken++;
      await inner.take(signal);
    },
    observe(info: RateLimitInfo) {
      budget.observed.push(info);
      return inner.observe(info);
    },
  };
  return budget;
}

/** JSON round trip: what a client can possibly receive of the simulator's events. */
export const asReceived = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}
