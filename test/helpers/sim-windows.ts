// What the simulator answered, counted per fixed window of the real clock as Zendesk counts a
// rate limit: the tests of a shared budget check every window, and name them all when one fails.
import type { SimRequest } from '../../src/simulator/index.ts';

export interface WindowCount {
  ok: number;
  /** Refused with 429. */
  limited: number;
}

/** Requests of `kinds` per window of `windowMs` counted from `origin`, windows with none left out. */
export function requestsPerWindow(requests: readonly SimRequest[], options: { origin: number; windowMs: number; kinds: ReadonlySet<string> }): WindowCount[] {
  const counts = new Map<number, WindowCount>();
  for (const r of requests) {
    if (!options.kinds.has(r.kind)) continue;
    const window = Math.floor((r.at - options.origin) / options.windowMs);
    const c = counts.get(window) ?? { ok: 0, limited: 0 };
    if (r.status === 429) c.limited++;
    else c.ok++;
    counts.set(window, c);
  }
  return [...counts.values()];
}

/** "requests per 3 s window (ok/429): 5/0 5/0", for a failure message. */
export function describeWindows(windows: readonly WindowCount[], windowMs: number): string {
  return `requests per ${windowMs / 1000} s window (ok/429): ${windows.map((w) => `${w.ok}/${w.limited}`).join(' ')}`;
}
