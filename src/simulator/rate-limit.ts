// Fixed-window request budgets, like Zendesk's per-minute limits: every window starts full,
// requests refused with 429 do not spend anything.

export interface BudgetState {
  allowed: boolean;
  /** The budget per window; 0 means unlimited. */
  total: number;
  /** What is left after this request. */
  remaining: number;
  /** Whole seconds until the window refills, at least 1. */
  resetsSec: number;
}

export class FixedWindowBudget {
  #limit: () => number;
  #windowSec: () => number;
  #origin: number;
  #windowNo = -1;
  #used = 0;

  constructor(limit: () => number, windowSec: () => number, originMs: number) {
    this.#limit = limit;
    this.#windowSec = windowSec;
    this.#origin = originMs;
  }

  /** Spends one request if the window has room (always, when unlimited). */
  take(now: number = Date.now()): BudgetState {
    const state = this.peek(now);
    if (!state.allowed) return state;
    this.#used++;
    return { ...state, remaining: state.total === 0 ? 0 : state.remaining - 1 };
  }

  /** The current window without spending; `allowed` says whether a request would fit. */
  peek(now: number = Date.now()): BudgetState {
    const windowMs = this.#windowSec() * 1000;
    const windowNo = Math.floor((now - this.#origin) / windowMs);
    if (windowNo !== this.#windowNo) {
      this.#windowNo = windowNo;
      this.#used = 0;
    }
    const total = this.#limit();
    const resetsSec = Math.max(1, Math.ceil((this.#origin + (windowNo + 1) * windowMs - now) / 1000));
    if (total === 0) return { allowed: true, total, remaining: 0, resetsSec };
    const remaining = Math.max(0, total - this.#used);
    return { allowed: remaining > 0, total, remaining, resetsSec };
  }
}
