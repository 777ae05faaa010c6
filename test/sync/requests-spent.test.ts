// A run that ends on Zendesk's answer about the ticket (404 gone, 403 forbidden) spent requests
// too: `work` logs each ticket with what it cost, and a soak showed every deleted ticket as
// `"status":"not_found","requests":0` although its 404 took a request of the budget.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 3, forbidden: [3] });
});
afterAll(async () => {
  await fixture?.close();
});

const conversationLogRequests = (ticketId: number) =>
  fixture.sim.requests.filter((r) => r.path.startsWith(`/api/v2/tickets/${ticketId}/conversation_log`)).length;

it('counts the request a 404 or a 403 answered, and the ones retried before it', async () => {
  expect(await syncTicket(fixture.deps, 1)).toMatchObject({ status: 'synced', requests: 1 });

  fixture.sim.deleteTicket(1);
  fixture.sim.resetRequests();
  expect(await syncTicket(fixture.deps, 1)).toMatchObject({ status: 'not_found', requests: 1 });
  expect(conversationLogRequests(1)).toBe(1);

  expect(await syncTicket(fixture.deps, 3)).toMatchObject({ status: 'forbidden', requests: 1 });

  // Two 5xx answers, then the 404: three requests.
  fixture.sim.deleteTicket(2);
  fixture.sim.resetRequests();
  fixture.sim.setOptions({ failRate: 1 });
  let answered = 0;
  const heal = setInterval(() => {
    answered = conversationLogRequests(2);
    if (answered >= 2) fixture.sim.setOptions({ failRate: 0 });
  }, 5);
  const result = await syncTicket({ ...fixture.deps }, 2).finally(() => clearInterval(heal));
  expect(result.status).toBe('not_found');
  expect(result.requests).toBe(conversationLogRequests(2));
  expect(result.requests).toBeGreaterThan(1);
});
