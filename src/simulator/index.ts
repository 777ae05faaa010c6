// Public surface of the local Zendesk simulator (used by the CLI, the demo, tests, benchmarks).
export { startSimulator, type Simulator } from './simulator.ts';
export { simulatorOptionsSchema, parseSimulatorOptions, DEFAULT_OPTIONS, type SimulatorOptions, type ResolvedOptions } from './options.ts';
export type { ConversationEvent, EventAttachment, EventAuthor, ExportTicket, MalformedKind, RequestKind, SimRequest } from './types.ts';
export { defaultTicketSize } from './profile.ts';
