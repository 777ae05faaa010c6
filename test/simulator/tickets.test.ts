import { describe, expect, it } from 'vitest';
import { DELETED_BRAND_ID, DELETED_GROUP_ID, type ExportTicket, type Simulator } from '../../src/simulator/index.ts';
import { get, simulator } from './helpers.ts';

interface Record_ {
  id: number;
  name: string;
  [field: string]: unknown;
}

interface ExportBody {
  tickets: (ExportTicket & { url: string })[];
  users?: Record_[];
  groups?: Record_[];
  organizations?: Record_[];
  after_cursor: string;
  end_of_stream: boolean;
}

const monthAgo = () => Math.floor(Date.now() / 1000) - 31 * 86_400;
const exportPath = (query: string) => `/api/v2/incremental/tickets/cursor.json?${query}`;

async function exportAll(sim: Simulator, query = ''): Promise<ExportBody> {
  const response = await get(sim, exportPath(`start_time=${monthAgo()}${query}`));
  if (response.status !== 200) throw new Error(`${response.status} ${await response.text()}`);
  const body = (await response.json()) as ExportBody;
  expect(body.end_of_stream).toBe(true);
  return body;
}

const MESSAGING_VIA = ['native_messaging', 'whatsapp', 'instagram_dm', 'facebook', 'line', 'wechat', 'telegram', 'twitter', 'viber', 'sms', 'apple_business_chat', 'google_rcs', 'kakao'];

describe('ticket context', () => {
  it('serves every field of an exported ticket, the same for the same seed', async () => {
    const a = await simulator({ tickets: 40, seed: 5 });
    const b = await simulator({ tickets: 40, seed: 5 });
    const first = await exportAll(a, '&support_type_scope=all');
    const second = await exportAll(b, '&support_type_scope=all');
    const strip = (body: ExportBody) => body.tickets.map(({ url: _url, ...ticket }) => ticket);
    expect(strip(second)).toEqual(strip(first));
    for (const t of first.tickets) {
      expect(t).toMatchObject({
        id: expect.any(Number),
        url: `${a.url}/api/v2/tickets/${t.id}.json`,
        subject: expect.any(String),
        status: expect.stringMatching(/^(new|open|pending|hold|solved|closed)$/),
        via: { channel: expect.any(String), source: { from: expect.any(Object), to: expect.any(Object) } },
        requester_id: expect.any(Number),
        submitter_id: expect.any(Number),
        brand_id: expect.any(Number),
        tags: expect.any(Array),
        from_messaging_channel: expect.any(Boolean),
        generated_timestamp: expect.any(Number),
      });
      expect(t.priority === null || ['low', 'normal', 'high', 'urgent'].includes(t.priority)).toBe(true);
      expect(t.type === null || ['question', 'incident', 'problem', 'task'].includes(t.type)).toBe(true);
      expect(t.custom_fields.length).toBeGreaterThan(0);
      for (const field of t.custom_fields) expect(Object.keys(field).sort()).toEqual(['id', 'value']);
      if (['native_messaging', 'whatsapp'].includes(t.via.channel)) expect(t.from_messaging_channel).toBe(true);
      if (['email', 'web', 'api', 'voice'].includes(t.via.channel)) expect(t.from_messaging_channel).toBe(false);
      expect(Date.parse(t.created_at)).toBeLessThanOrEqual(Date.parse(t.updated_at));
    }
  });

  it('covers every status, every support and messaging channel, VIP tags and deleted groups and brands', async () => {
    const sim = await simulator({ tickets: 3000 });
    const tickets = Array.from({ length: 3000 }, (_, i) => sim.ticket(i + 1));
    expect(new Set(tickets.map((t) => t.status))).toEqual(new Set(['new', 'open', 'pending', 'hold', 'solved', 'closed']));
    const channels = new Set(tickets.map((t) => t.via.channel));
    for (const channel of ['email', 'web', 'api', 'mobile_sdk', 'mobile', 'voice', 'chat', 'twitter', 'facebook', 'sms', ...MESSAGING_VIA]) expect(channels).toContain(channel);
    // A messaging ticket is one whose log is messaging; twitter, facebook and sms exist both ways.
    expect(tickets.filter((t) => t.via.channel === 'native_messaging').every((t) => t.from_messaging_channel)).toBe(true);
    expect(tickets.filter((t) => t.via.channel === 'email').every((t) => !t.from_messaging_channel && t.via.source.from.address)).toBe(true);
    expect(tickets.some((t) => t.via.channel === 'sms' && t.from_messaging_channel) && tickets.some((t) => t.via.channel === 'sms' && !t.from_messaging_channel)).toBe(true);
    expect(tickets.some((t) => t.tags.includes('vip'))).toBe(true);
    expect(tickets.some((t) => t.group_id === DELETED_GROUP_ID)).toBe(true);
    expect(tickets.some((t) => t.brand_id === DELETED_BRAND_ID)).toBe(true);
    expect(tickets.some((t) => t.satisfaction_rating?.score === 'good') && tickets.some((t) => t.satisfaction_rating?.score === 'bad')).toBe(true);
    expect(new Set(tickets.map((t) => t.priority))).toEqual(new Set([null, 'low', 'normal', 'high', 'urgent']));
  });

  it('names the people of its conversation log', async () => {
    const sim = await simulator({ tickets: 60 });
    const { tickets, users } = await exportAll(sim, '&support_type_scope=all&include=users');
    const byId = new Map(users!.map((u) => [u.id, u]));
    let checked = 0;
    for (const t of tickets) {
      const requester = byId.get(t.requester_id!)!;
      expect(requester).toMatchObject({ role: 'end-user', email: expect.stringContaining('@') });
      if (t.assignee_id !== null) expect(['agent', 'admin']).toContain(byId.get(t.assignee_id)!.role);
      for (const event of sim.events(t.id)) {
        const author = event.author;
        if (author.type !== 'user' || !('zen:support:user_id' in author || 'zen:sunco:user_id' in author)) continue;
        expect(author.display_name).toBe(requester.name);
        if (author['zen:support:user_id'] !== undefined) expect(author['zen:support:user_id']).toBe(t.requester_id);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
    // The assignee is one of the ticket's agents: nearly always one who wrote in it.
    const answered = tickets.filter((t) => t.assignee_id !== null && sim.events(t.id).some((e) => e.author.type === 'agent' && e.author['zen:support:user_id']));
    const byAssignee = answered.filter((t) => sim.events(t.id).some((e) => e.author['zen:support:user_id'] === t.assignee_id));
    expect(byAssignee.length / answered.length).toBeGreaterThan(0.8);
  });

  it('copies the first comment into description, redactions included; a ticket opened by a message keeps its subject there', async () => {
    const sim = await simulator({ tickets: 40 });
    const { tickets } = await exportAll(sim, '&support_type_scope=all');
    const opened = (t: ExportTicket) => (sim.eventCount(t.id) > 0 ? sim.events(t.id)[0] : undefined);
    const byComment = tickets.filter((t) => opened(t)?.type === 'Comment');
    expect(byComment.length).toBeGreaterThan(5);
    for (const t of byComment) {
      const body = (opened(t)!.content as { type: string; body: string }).body;
      expect(t.description).not.toBe('');
      expect(t.description).not.toMatch(/[<>]/);
      // Each paragraph's text, in order.
      const first = /<p dir="auto">([^<]*)<\/p>/.exec(body)?.[1];
      if (first !== undefined && !first.includes('&')) expect(t.description.startsWith(first)).toBe(true);
    }
    for (const t of tickets.filter((t) => opened(t)?.type !== 'Comment')) expect(t.description).toBe(t.subject);

    const t = byComment[0];
    sim.editEvent(t.id, opened(t)!.reference, (event) => void (event.content = { type: 'html', body: '<div class="zd-comment"><p>Card ▇▇▇▇</p>\n\n<p>Thanks &amp; bye</p></div>' }));
    expect(sim.ticket(t.id).description).toBe('Card ▇▇▇▇\n\nThanks & bye');
  });

  it('leaves AI-agent tickets out of the default support_type_scope, as Zendesk does', async () => {
    const sim = await simulator({ tickets: 60 });
    const ai = Array.from({ length: 60 }, (_, i) => i + 1).filter((id) => sim.isAiAgentTicket(id));
    expect(ai.length).toBeGreaterThan(3);
    const ids = async (query: string) => (await exportAll(sim, query)).tickets.map((t) => t.id).sort((x, y) => x - y);
    const all = await ids('&support_type_scope=all');
    expect(all).toHaveLength(60);
    expect(await ids('')).toEqual(all.filter((id) => !ai.includes(id)));
    expect(await ids('&support_type_scope=agent')).toEqual(all.filter((id) => !ai.includes(id)));
    expect(await ids('&support_type_scope=ai_agent')).toEqual(ai);
    for (const id of ai) expect(sim.ticket(id)).toMatchObject({ assignee_id: null, from_messaging_channel: true });
    const bad = await get(sim, exportPath(`start_time=${monthAgo()}&support_type_scope=bots`));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'InvalidValue', description: expect.stringMatching(/support_type_scope/) });
  });

  it('serves soft-deleted tickets as "deleted" and permanently deleted ones scrubbed; exclude_deleted drops both', async () => {
    const sim = await simulator({ tickets: 10, deleted: [2], scrubbed: [4] });
    const { tickets } = await exportAll(sim, '&support_type_scope=all');
    const two = tickets.find((t) => t.id === 2)!;
    expect(two).toMatchObject({ status: 'deleted', subject: sim.ticket(2).subject });
    expect(two.requester_id).not.toBeNull();
    expect(tickets.find((t) => t.id === 4)).toMatchObject({ status: 'deleted', subject: 'SCRUBBED', description: 'X', requester_id: null, assignee_id: null, tags: [] });
    const kept = (await exportAll(sim, '&support_type_scope=all&exclude_deleted=true')).tickets.map((t) => t.id);
    expect(kept.sort((x, y) => x - y)).toEqual([1, 3, 5, 6, 7, 8, 9, 10]);
    expect((await get(sim, '/api/v2/tickets/4/conversation_log.json')).status).toBe(404);
  });

  it('side-loads the users, groups and organizations a page names, never a deleted group', async () => {
    const sim = await simulator({ tickets: 200 });
    const body = await exportAll(sim, '&support_type_scope=all&include=users,groups,organizations');
    const named = (key: 'group_id' | 'organization_id') => new Set(body.tickets.map((t) => t[key]).filter((id) => id !== null && id !== DELETED_GROUP_ID));
    expect(new Set(body.groups!.map((g) => g.id))).toEqual(named('group_id'));
    expect(new Set(body.organizations!.map((o) => o.id))).toEqual(named('organization_id'));
    expect(body.organizations![0]).toMatchObject({ name: expect.any(String), domain_names: [expect.stringMatching(/\.example$/)], tags: expect.any(Array) });
    const people = new Set(body.tickets.flatMap((t) => [t.requester_id, t.submitter_id, t.assignee_id]).filter((id) => id !== null));
    expect(new Set(body.users!.map((u) => u.id))).toEqual(people);
    expect(new Set(body.users!.map((u) => u.role))).toEqual(new Set(['end-user', 'agent', 'admin']));
    const plain = await exportAll(sim, '&support_type_scope=all');
    expect(plain).not.toHaveProperty('users');
    const bad = await get(sim, exportPath(`start_time=${monthAgo()}&include=users,unicorns`));
    expect(bad.status).toBe(400);
  });
});
