// The example SQL the demo runs and prints with its results. One list, so adding a query (an
// analyst view, say) is one entry: a title people read and SQL they can paste into psql.
export interface DemoQuery {
  title: string;
  sql: string;
}

export const DEMO_QUERIES: DemoQuery[] = [
  {
    // source_type (the event's source), not the channel column (the type's prefix).
    title: 'Events by type and source',
    sql: `select type, coalesce(source_type, '-') as source_type, count(*)::int as events
from zendesk.conversation_events
group by 1, 2
order by events desc
limit 8`,
  },
  {
    title: 'Top authors by messages',
    sql: `select a.display_name, a.type, count(*)::int as messages
from zendesk.conversation_events e
join zendesk.authors a using (author_key)
where e.event_kind = 'message'
group by a.author_key, a.display_name, a.type
order by messages desc, a.display_name
limit 5`,
  },
  {
    title: 'Attachments by content type',
    sql: `select content_type, count(*)::int as files,
  count(*) filter (where deleted)::int as deleted,
  pg_size_pretty(sum(size)) as total_size
from zendesk.attachments
group by content_type
order by files desc`,
  },
  {
    title: 'Bot containment (conversations a customer wrote in) and first reply time (view zendesk.ticket_conversations)',
    sql: `select count(*) filter (where bot_outcome is not null)::int as tickets_with_bot,
  count(*) filter (where bot_outcome = 'contained')::int as contained_by_bot,
  round(100.0 * count(*) filter (where bot_outcome = 'contained')
    / nullif(count(*) filter (where bot_outcome is not null), 0), 1)::float8 as containment_pct,
  round((percentile_cont(0.5) within group (order by first_agent_reply_seconds) / 60)::numeric, 1)::float8 as median_first_reply_min
from zendesk.ticket_conversations
where end_user_messages > 0`,
  },
  {
    title: 'Reply times by agent (view zendesk.agent_replies)',
    sql: `select agent_name, count(*)::int as replies,
  round((percentile_cont(0.5) within group (order by wait_seconds) / 60)::numeric, 1)::float8 as median_wait_min
from zendesk.agent_replies
group by agent_key, agent_name
order by replies desc, agent_name
limit 5`,
  },
];
