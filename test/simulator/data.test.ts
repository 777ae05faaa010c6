import { describe, expect, it } from 'vitest';
import { defaultTicketSize, type ConversationEvent } from '../../src/simulator/index.ts';
import { get, logPath, simulator } from './helpers.ts';

async function body(url: string, path: string) {
  const response = await fetch(`${url}${path}`, { headers: { authorization: 'Bearer t' } });
  // Links carry the server's own host and port; everything else must match byte for byte.
  return (await response.text()).replaceAll(url, 'ORIGIN');
}

describe('generated data', () => {
  it('is byte-identical for the same seed and different for another seed', async () => {
    const a = await simulator({ tickets: 30, seed: 42 });
    const b = await simulator({ tickets: 30, seed: 42 });
    const c = await simulator({ tickets: 30, seed: 43 });
    for (const path of [logPath(3, 'page[size]=50'), logPath(11), logPath(17), logPath(4, 'sort=-created_at&page[size]=7')]) {
      const first = await body(a.url, path);
      expect(await body(b.url, path)).toBe(first);
      expect(await body(c.url, path)).not.toBe(first);
    }
  });

  it('mixes ticket sizes predictably', () => {
    expect([2, 5, 9, 3, 4, 7, 97, 194].map(defaultTicketSize)).toEqual([0, 1, 7, 100, 101, 250, 2500, 2500]);
    const sizes = Array.from({ length: 300 }, (_, i) => defaultTicketSize(i + 1));
    const average = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    expect(average).toBeGreaterThan(20);
    expect(average).toBeLessThan(45);
  });

  it('has unique references, ids and attachment ids across the account, and increasing created_at', async () => {
    const sim = await simulator({ tickets: 120 });
    const references = new Set<string>();
    const ids = new Set<string>();
    const attachmentIds = new Set<number>();
    let events = 0;
    for (let t = 1; t <= 120; t++) {
      const log = sim.events(t);
      for (let i = 0; i < log.length; i++) {
        const e = log[i];
        events++;
        references.add(e.reference);
        ids.add(e.id);
        for (const a of e.attachments) {
          attachmentIds.add(a.id);
          for (const th of a.thumbnails ?? []) attachmentIds.add(th.id);
        }
        expect(e.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
        expect(e.reference).toMatch(/^zen:(ticket_event:\d+|sunco:conversation_message:[0-9a-f]{24})$/);
        expect(e.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        if (i > 0) expect(e.created_at > log[i - 1].created_at).toBe(true);
      }
    }
    expect(references.size).toBe(events);
    expect(ids.size).toBe(events);
    const attachmentCount = [...Array(120).keys()].flatMap((i) => sim.events(i + 1)).flatMap((e) => e.attachments.flatMap((a) => [a, ...(a.thumbnails ?? [])])).length;
    expect(attachmentIds.size).toBe(attachmentCount);
    expect(attachmentCount).toBeGreaterThan(50);
  });

  it('covers the shapes of the real API', async () => {
    const sim = await simulator({ tickets: 300 });
    const all: ConversationEvent[] = [];
    for (let t = 1; t <= 300; t++) if (t % 97 !== 0) all.push(...sim.events(t));
    const types = new Set(all.map((e) => e.type));
    expect(types).toEqual(new Set(['Comment', 'Messaging::ConversationMessage', 'Voice::CallRecording', 'Messaging::ConversationStatusChange']));
    const contentTypes = new Set(all.filter((e) => e.type === 'Messaging::ConversationMessage').map((e) => e.content.type));
    for (const type of ['text', 'image', 'file', 'carousel', 'form', 'formResponse', 'location', 'audio']) expect(contentTypes).toContain(type);
    expect(all.some((e) => e.content.type === 'text' && Array.isArray(e.content.actions))).toBe(true);
    expect(all.some((e) => e.content.type === 'text' && !('actions' in e.content))).toBe(true);

    const messages = all.filter((e) => e.type === 'Messaging::ConversationMessage');
    for (const m of messages) {
      expect(m.received_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(m.source?.type).toEqual(expect.any(String));
      expect(m.metadata).not.toHaveProperty('public');
    }
    const comments = all.filter((e) => e.type === 'Comment');
    expect(comments.some((c) => c.metadata.public === true)).toBe(true);
    expect(comments.some((c) => c.metadata.public === false)).toBe(true);
    expect(comments.some((c) => 'latitude' in c.metadata.system && 'client' in c.metadata.system)).toBe(true);
    expect(comments.some((c) => Object.keys(c.metadata.system).length === 0)).toBe(true);
    expect(comments.every((c) => c.content.type === 'html' && String(c.content.body).startsWith('<div class="zd-comment"'))).toBe(true);

    const attachments = all.flatMap((e) => e.attachments);
    expect(attachments.some((a) => a.deleted)).toBe(true);
    expect(attachments.some((a) => (a.thumbnails?.length ?? 0) >= 2)).toBe(true);
    expect(attachments.some((a) => a.width === undefined && a.content_type === 'application/pdf')).toBe(true);

    const authors = all.map((e) => e.author);
    expect(authors.some((a) => a.type === 'bot' && a['zen:support:user_id'] === -1 && a['zen:sunco:user_id'])).toBe(true);
    expect(authors.some((a) => a.type === 'agent' && a['zen:support:user_id'] && a['zen:sunco:user_id'])).toBe(true);
    expect(authors.some((a) => a.type === 'user' && a['zen:sunco:user_id'] && a['zen:support:user_id'] === undefined)).toBe(true);
    expect(authors.some((a) => a.type === 'user' && a['zen:support:user_id'] && a['zen:sunco:user_id'] === undefined)).toBe(true);
    expect(authors.some((a) => Object.keys(a).sort().join() === 'display_name,type')).toBe(true);
  });

  it('puts the documented oddities in predictable tickets', async () => {
    const sim = await simulator({ tickets: 40 });
    expect(sim.events(22)).toEqual([]); // id % 10 == 2 is empty
    expect(sim.events(11)[1].type).toBe('Messaging::ConversationStatusChange');
    expect(sim.events(33)[1].type).toBe('Messaging::ConversationStatusChange');
    expect(sim.events(13)[2].content.type).toBe('audio');
    const hostile = JSON.stringify(sim.events(17)[0]);
    expect(hostile).toContain('\\u0000');
    expect(hostile).toContain('\\ud83d');
    const served = await (await get(sim, logPath(17))).text();
    expect(served).toContain('\\u0000');
    expect(served).toContain('\\ud83d');
  });

  it('recurs authors within a ticket and agents across tickets', async () => {
    const sim = await simulator({ tickets: 30 });
    const authorsOf = (t: number) => new Set(sim.events(t).map((e) => JSON.stringify(e.author)));
    expect(authorsOf(7).size).toBeLessThan(8);
    const agentIds = new Set<number>();
    for (let t = 1; t <= 30; t++) for (const e of sim.events(t)) if (e.author.type === 'agent' && e.author['zen:support:user_id']) agentIds.add(e.author['zen:support:user_id']);
    expect(agentIds.size).toBeLessThanOrEqual(8);
    expect(agentIds.size).toBeGreaterThan(2);
  });
});
