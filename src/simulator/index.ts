// Public surface of the local Zendesk simulator (used by the CLI, the demo, tests, benchmarks).
export { startSimulator, type Simulator, type SimulatorWebhooks } from './simulator.ts';
export { simulatorOptionsSchema, parseSimulatorOptions, DEFAULT_OPTIONS, type SimulatorOptions, type ResolvedOptions } from './options.ts';
export type { ConversationEvent, CustomFieldValue, EventAttachment, EventAuthor, ExportTicket, MalformedKind, RequestKind, SimRequest, TicketPatch, TicketVia } from './types.ts';
export { defaultTicketSize, naturalHistoryEndSec } from './profile.ts';
export { createRng, type Rng } from './random.ts';
export { COMMENT_CHANNELS, MESSAGING_CHANNELS } from './via.ts';
export { DELETED_BRAND_ID, DELETED_GROUP_ID } from './catalog.ts';
export { signWebhook, type WebhookDelivery, type WebhookFault } from './webhooks.ts';
export { EVENT_TYPES as WEBHOOK_EVENT_TYPES, type WebhookEvent } from './webhook-events.ts';
