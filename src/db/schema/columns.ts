// The two Postgres schemas and the column types every table uses. Analysts' tables live in
// `zendesk`; convlog's own bookkeeping in `convlog`, so that a read-only role on `zendesk` sees
// only their data.
import { bigint, pgSchema, timestamp } from 'drizzle-orm/pg-core';

export const zendesk = pgSchema('zendesk');
export const internal = pgSchema('convlog');

export const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
export const id = (name: string) => bigint(name, { mode: 'number' });
