import { describe, expect, it } from 'vitest';
import { get, getPage, logPath, simulator } from './helpers.ts';

const INVALID_AFTER = { errors: [{ code: 'InvalidPaginationParameter', title: 'page[after] is not valid' }] };

describe('cursors', () => {
  it('always contain + and / (and padding), so they must be URL-encoded', async () => {
    const sim = await simulator({ tickets: 3, ticketSizes: { 1: 7, 2: 300, 3: 1 } });
    for (const id of [1, 2, 3]) {
      const page = await getPage(sim, logPath(id, 'page[size]=3'));
      for (const cursor of [page.meta.after_cursor!, page.meta.before_cursor!]) {
        expect(cursor).toMatch(/\+/);
        expect(cursor).toMatch(/\//);
        expect(cursor).toMatch(/=$/);
      }
    }
  });

  it('a raw + (arriving as a space) is rejected with 400', async () => {
    const sim = await simulator({ tickets: 1, ticketSizes: { 1: 10 } });
    const page = await getPage(sim, logPath(1, 'page[size]=3'));
    const response = await get(sim, logPath(1, `page[size]=3&page[after]=${page.meta.after_cursor}`));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual(INVALID_AFTER);
    const encoded = await get(sim, logPath(1, `page[size]=3&page[after]=${encodeURIComponent(page.meta.after_cursor!)}`));
    expect(encoded.status).toBe(200);
  });

  it('garbage, tampered and foreign cursors are rejected with 400', async () => {
    const sim = await simulator({ tickets: 2, ticketSizes: { 1: 10, 2: 10 } });
    const page = await getPage(sim, logPath(1, 'page[size]=3'));
    const cursor = page.meta.after_cursor!;
    const tampered = cursor.slice(0, 12) + (cursor[12] === 'A' ? 'B' : 'A') + cursor.slice(13);
    for (const [ticket, bad] of [[1, 'eyJvIjoiaWQifQ=='], [1, 'not a cursor'], [1, tampered], [1, ''], [2, cursor]] as const) {
      const response = await get(sim, logPath(ticket, `page[after]=${encodeURIComponent(bad)}`));
      expect(response.status, `${ticket} ${bad}`).toBe(400);
      expect(await response.json()).toEqual(INVALID_AFTER);
    }
    const before = await get(sim, logPath(1, `page[before]=${encodeURIComponent('%%%')}`));
    expect(await before.json()).toEqual({ errors: [{ code: 'InvalidPaginationParameter', title: 'page[before] is not valid' }] });
  });

  it('an after cursor cannot be used as page[before], nor with the other sort order', async () => {
    const sim = await simulator({ tickets: 1, ticketSizes: { 1: 10 } });
    const page = await getPage(sim, logPath(1, 'page[size]=3'));
    const asBefore = await get(sim, logPath(1, `page[before]=${encodeURIComponent(page.meta.after_cursor!)}`));
    expect(asBefore.status).toBe(400);
    const otherSort = await get(sim, logPath(1, `sort=-created_at&page[after]=${encodeURIComponent(page.meta.after_cursor!)}`));
    expect(otherSort.status).toBe(400);
  });

  it.each(['0', '101', 'abc', '-1', '1.5'])('page[size]=%s is rejected with 400 InvalidPaginationParameter', async (size) => {
    const sim = await simulator({ tickets: 1 });
    const response = await get(sim, logPath(1, `page[size]=${size}`));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { code: string }[] };
    expect(body.errors[0].code).toBe('InvalidPaginationParameter');
  });

  it('rejects an unknown sort and both cursors at once', async () => {
    const sim = await simulator({ tickets: 1, ticketSizes: { 1: 10 } });
    expect((await get(sim, logPath(1, 'sort=updated_at'))).status).toBe(400);
    const page = await getPage(sim, logPath(1, 'page[size]=3'));
    const both = `page[after]=${encodeURIComponent(page.meta.after_cursor!)}&page[before]=${encodeURIComponent(page.meta.before_cursor!)}`;
    expect((await get(sim, logPath(1, both))).status).toBe(400);
  });

  it('cursors stay valid across simulator restarts with the same seed', async () => {
    const first = await simulator({ tickets: 1, ticketSizes: { 1: 10 } });
    const page = await getPage(first, logPath(1, 'page[size]=4'));
    const second = await simulator({ tickets: 1, ticketSizes: { 1: 10 } });
    const next = await getPage(second, logPath(1, `page[size]=4&page[after]=${encodeURIComponent(page.meta.after_cursor!)}`));
    expect(next.events).toEqual(first.events(1).slice(4, 8));
  });
});
