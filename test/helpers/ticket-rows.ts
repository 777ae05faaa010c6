// What schema zendesk still holds of one ticket: the check that an erased ticket left nothing
// behind but its tombstone, whatever tables with a ticket_id later migrations add.
import type pg from 'pg';

/**
 * Rows that name the ticket, in every table of schema zendesk with a ticket_id column, and its
 * tickets row: `{ 'table': count }`, tables without any left out.
 */
export async function rowsOfTicket(pool: pg.Pool, ticketId: number): Promise<Record<string, number>> {
  const { rows: tables } = await pool.query<{ table_name: string }>(`
    select c.table_name from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
     where c.table_schema = 'zendesk' and t.table_type = 'BASE TABLE' and c.column_name = 'ticket_id' order by 1`);
  if (tables.length < 4) throw new Error(`only ${tables.length} tables with a ticket_id column: is the schema migrated?`);
  const found: Record<string, number> = {};
  const count = async (label: string, text: string) => {
    const n = Number((await pool.query<{ n: string }>(text, [ticketId])).rows[0].n);
    if (n > 0) found[label] = n;
  };
  for (const { table_name } of tables) await count(table_name, `select count(*) as n from zendesk."${table_name}" where ticket_id = $1`);
  await count('tickets', 'select count(*) as n from zendesk.tickets where id = $1');
  return found;
}

/** Authors who wrote events of the ticket and of no other ticket: the people an erasure must take with it. */
export async function authorsOnlyOf(pool: pg.Pool, ticketId: number): Promise<string[]> {
  const { rows } = await pool.query<{ author_key: string }>(
    `select distinct author_key from zendesk.conversation_events e where ticket_id = $1 and author_key is not null
        and not exists (select 1 from zendesk.conversation_events o where o.author_key = e.author_key and o.ticket_id <> $1)
      order by 1`,
    [ticketId],
  );
  return rows.map((r) => r.author_key);
}
