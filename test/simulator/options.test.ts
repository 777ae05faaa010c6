import { describe, expect, it } from 'vitest';
import { parseSimulatorOptions, simulatorOptionsSchema, startSimulator } from '../../src/simulator/index.ts';
import { simulator } from './helpers.ts';

describe('simulator options', () => {
  it('coerces command-line strings', () => {
    expect(
      simulatorOptionsSchema.parse({ port: '0', tickets: '20', seed: '7', rateLimit: '300', failRate: '0.25', forbidden: '3, 7', deleted: ['4'], ticketSizes: '3:100,5=0' }),
    ).toEqual({ port: 0, tickets: 20, seed: 7, rateLimit: 300, failRate: 0.25, forbidden: [3, 7], deleted: [4], ticketSizes: { 3: 100, 5: 0 } });
    expect(simulatorOptionsSchema.parse({ ticketSizes: '{"9": 50000}' })).toEqual({ ticketSizes: { 9: 50000 } });
  });

  it('explains every problem in one message', () => {
    expect(() => parseSimulatorOptions({ tickets: 'abc', failRate: '2', window: 0, tikets: 3 })).toThrow(
      'Invalid simulator options: tickets must be a number (got "abc"); window must be at least 1; failRate must be between 0 and 1; unknown simulator option: tikets',
    );
    expect(() => parseSimulatorOptions({ ticketSizes: '3:x' })).toThrow(/ticketSizes values must be event counts/);
    expect(() => parseSimulatorOptions({ forbidden: '1,x' })).toThrow(/forbidden must list ticket ids/);
  });

  it('startSimulator rejects bad options before listening', async () => {
    await expect(startSimulator({ rateLimit: -1 })).rejects.toThrow('rateLimit must be at least 0');
  });

  it('applies defaults and runtime changes', async () => {
    const sim = await simulator({ tickets: 5 });
    expect(sim.options()).toMatchObject({ host: '127.0.0.1', tickets: 5, seed: 1, window: 60, exportPageSize: 1000, failRate: 0 });
    expect(sim.url).toBe(`http://127.0.0.1:${sim.port}`);
    sim.setOptions({ failRate: 0.5, latency: 10 });
    expect(sim.options()).toMatchObject({ failRate: 0.5, latency: 10, tickets: 5 });
    expect(() => sim.setOptions({ failRate: 3 })).toThrow(/failRate/);
    expect(() => sim.events(6)).toThrow(/does not exist/);
  });
});
