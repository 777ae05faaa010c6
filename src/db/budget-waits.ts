// What a process's waits for a permit tell whoever watches them (the bar of `sync`, a log line of
// `work`: src/commands/rate-waits.ts): each wait long enough to notice as it starts, and once
// that the waiting is over.
import { errorMessage } from '../errors/messages.ts';
import type { Logger } from '../log.ts';

/**
 * This process starts waiting for a permit, for long enough to tell a person (REPORTED_WAIT_MS
 * or more). The budget's window is its own (a minute, as Zendesk's): a response's `resets` places
 * the window's end, never its length.
 */
export interface BudgetWait {
  /** The row: 'conversation_log', 'account', 'export'. */
  budget: string;
  waitMs: number;
  /** 'paused': a 429 (this process's, or another's through the row) holds every sender until its Retry-After; else the window's allowance is spent or paced. */
  reason: 'window' | 'paused';
  /** The limit in force: the lowest of the processes taking permits (this one's, unless another is set lower). */
  limitPerWindow: number;
  windowMs: number;
  /** Zendesk's `total` (requests a window) from this process's last response, when it gave one. */
  serverTotal?: number;
}

/** Told of each wait as it starts, and `undefined` once the waiting is over (a permit, or no taker left). */
export type BudgetWaitListener = (wait: BudgetWait | undefined) => void;

/** Shorter waits (the pacing between permits at 100 a minute) are not reported. */
const REPORTED_WAIT_MS = 1000;

export interface WaitReports {
  /** Calls `listener` as waits start and end; returns how to stop. */
  watch(listener: BudgetWaitListener): () => void;
  /** A wait of `ms` is worth telling: long enough, and someone listens. */
  noticed(ms: number): boolean;
  /** Tells the listeners that `wait` starts. */
  start(wait: BudgetWait): void;
  /** Tells the listeners that the waiting is over, once, if a wait was told. */
  over(): void;
}

/** A listener that throws is logged on `log` and the others are still told. */
export function waitReports(log: Logger): WaitReports {
  const listeners = new Set<BudgetWaitListener>();
  /** A wait was told and its end not yet. */
  let reported = false;
  const tell = (wait: BudgetWait | undefined) => {
    for (const listener of listeners) {
      try {
        listener(wait);
      } catch (error) {
        log.warn({ err: errorMessage(error) }, 'rate budget: a wait listener failed');
      }
    }
  };
  return {
    watch(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    noticed: (ms) => ms >= REPORTED_WAIT_MS && listeners.size > 0,
    start(wait) {
      reported = true;
      tell(wait);
    },
    over() {
      if (!reported) return;
      reported = false;
      tell(undefined);
    },
  };
}
