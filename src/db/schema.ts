// The tables analysts query, as the README describes them (other programs rely on these
// columns: change them only with a migration and a README update), and convlog's own. The
// migrations in migrations/ are generated from these files by drizzle-kit.
export { internal, zendesk } from './schema/columns.ts';
export * from './schema/conversations.ts';
export * from './schema/ticket-sync.ts';
export * from './schema/ticket-context.ts';
export * from './schema/ticket-analytics.ts';
export * from './schema/pending-comments.ts';
export * from './schema/bookkeeping.ts';
