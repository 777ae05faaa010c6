// Zendesk's ticket `description` is its copy of the ticket's first comment, kept in the tickets
// row's `raw`. A redaction of that comment reaches the stored event at the ticket's next full
// read, but nothing reads the ticket row again unless the export serves the ticket again or a
// webhook names it to `convlog serve`: the redacted text would stay in the row. So the page
// statement (src/db/store-page.ts) takes the redaction into the row itself, from the event it
// stores, without another request to Zendesk.

/**
 * Two CTEs of the page statement, over its parameters $2 (the event rows), $5 (the ticket) and $9
 * (the response body, or null). `description_redacted` updates the ticket row. Before it, when
 * the first event changed, the statement locks the page's people Postgres has (`authors_locked`,
 * src/db/store-page.ts), in key order, and inserts the new ones only after ticket_sync: serve's
 * statements (src/db/tickets.ts) lock the people they side-load before the tickets row and insert
 * the new ones after it, and a page holding the tickets row while it waited for one of them (a
 * row to lock), or holding a new one while it waited for the row, deadlocked with them. The
 * statement names both in its select list before ticket_sync, in the order src/db/lock-order.ts gives.
 *
 * The rule: only when the ticket's first stored event is a `Comment` and the page changes its
 * words (its text without whitespace and punctuation: what two renderings of one comment share,
 * so that a change of rendering alone is no redaction). Then a description whose words are the
 * new words is Zendesk's own copy, redacted (a read of the row came first), and is left as it is;
 * any other becomes the event's new text whole (never a replacement inside it, which would hit
 * the old text inside other words). A ticket row without a description is left alone. A later
 * read of the ticket, by the export or by id, stores Zendesk's copy again, its state being at
 * least as recent (src/db/tickets.ts).
 */
export const DESCRIPTION_REDACTED = `
first_event_changed as (
  select c.new_text, ${words('c.new_text')} as new_words
    from (select e.reference, e.type, e.body_text from zendesk.conversation_events e
           where e.ticket_id = $5 order by e.position limit 1) f
    join jsonb_to_recordset($2::jsonb) as p("bodyText" text, "raw" jsonb, "pageIndex" integer)
      on coalesce(p."raw", $9::jsonb -> 'events' -> p."pageIndex") ->> 'reference' = f.reference
    cross join lateral (select coalesce(p."bodyText", '') as new_text) c
   where f.type = 'Comment' and ${words('f.body_text')} <> ${words('c.new_text')}
),
description_redacted as (
  update zendesk.tickets t set raw = jsonb_set(t.raw, '{description}', to_jsonb(c.new_text))
    from first_event_changed c
   where t.id = $5
     and jsonb_typeof(t.raw -> 'description') = 'string'
     and ${words(`t.raw ->> 'description'`)} <> c.new_words
  returning 1
)`;

/** The text without its whitespace and punctuation: what two renderings of one comment share. */
function words(text: string): string {
  return `regexp_replace(${text}, '[[:space:][:punct:]]+', '', 'g')`;
}
