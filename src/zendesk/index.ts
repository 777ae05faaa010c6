// The Zendesk client as the rest of convlog sees it: make a client, page a ticket's log, plug
// in a rate budget. Schema and header internals stay private to this folder.
export { createZendeskHttp, type ZendeskHttp, type ZendeskHttpOptions } from './http.ts';
export {
  pageConversationLog,
  newestEventReference,
  MAX_PAGE_SIZE,
  type PageConversationLogOptions,
  type ConversationLogPageResult,
} from './conversation-log.ts';
export { SHOW_MANY_BATCH } from './ticket-context.ts';
export { requestsSpentOn } from './fetch-with-retries.ts';
export { parseRateLimit, localBudget, type RateLimitInfo, type RequestBudget } from './rate-limit.ts';
export { validateConversationLogPage, type ConversationLogEvent, type ConversationLogPage } from './schemas.ts';
// For other endpoints (the incremental export), so every Zendesk answer is mapped in one place.
export { clientContext, readJsonResponse, errorForFailure, type RawResponse, type ResponseContext } from './responses.ts';
