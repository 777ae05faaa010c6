// Progress of a long sync: a bar in a terminal, a plain line every few seconds otherwise
// (logs and CI output stay readable). A wait that holds the work back (a rate budget) is shown
// on the bar as it counts down, or logged once at info when it is long (rate-waits.ts). Several
// budgets may wait at once: the bar shows the wait that started last, then any still running.
// While other tickets' jobs come first (running, or queued at a higher priority), the line says
// how many, so a count that stands still is not taken for a run that is stuck.
import { clearLine, cursorTo } from 'node:readline';
import cliProgress from 'cli-progress';
import { counted, grouped } from '../text.ts';
import { holdBottomLine, type Logger } from '../log.ts';
import { logWait, waitMessage } from '../timing.ts';
import type { Ahead } from '../queue/queue-stats.ts';
import type { OutputStream } from './types.ts';

export interface ProgressState {
  done: number;
  total: number;
  events: number;
  requests: number;
  /** Other tickets' jobs workers hold, or take before the first of these still waiting (jobsAhead). */
  ahead?: Ahead;
  /** Of `done`, those an earlier run did (a resumed rebuild's): no part of this run's pace. */
  doneBefore?: number;
}

/** " (3 other tickets ahead)", "(1,000+ …)" when the look stopped at its limit, or nothing when none are. */
function aheadText(ahead: Ahead = { count: 0, atLeast: false }): string {
  return ahead.count > 0 ? ` (${counted(ahead.count, 'other ticket', (n) => `${grouped(n)}${ahead.atLeast ? '+' : ''}`)} ahead)` : '';
}

/** A wait that holds the work back: "waiting {seconds} s for {text}". */
export interface ProgressWait {
  /** What is waited for: "the rate limit (100 requests a minute, CONVLOG_RATE_LIMIT)". */
  text: string;
  waitMs: number;
  /** Fields of its log line (without a terminal): which budget, which setting. */
  context?: object;
}

export interface Progress {
  update(state: ProgressState): void;
  /** A wait of `source` (a budget's name) starts; `undefined` when it is over. */
  waiting(wait: ProgressWait | undefined, source?: string): void;
  stop(): void;
}

const BAR_COMPLETE = '\u2588';
const BAR_INCOMPLETE = '\u2591';

export function createProgress(label: string, stream: OutputStream, options: { counts?: boolean; log?: Logger; stopping?: AbortSignal } = {}): Progress {
  // Work that makes no requests (rebuild-analytics) shows tickets only.
  const counts = options.counts ?? true;
  // By source, in the order the waits started (a new wait of a source moves it last).
  const waits = new Map<string, { text: string; until: number }>();
  const waitText = (): string | undefined => {
    for (const wait of [...waits.values()].reverse()) {
      const waitMs = wait.until - Date.now();
      if (waitMs > 0) return waitMessage({ text: wait.text, waitMs });
    }
    return undefined;
  };
  if (stream.isTTY) {
    const eta = etaEstimator();
    let remaining = '\u2026';
    const bar = new cliProgress.SingleBar({
      // A terminal's stream: the bar moves its cursor.
      stream: stream as NodeJS.WriteStream,
      format: (_options, params, payload: { events?: number; requests?: number; ahead?: Ahead }) => {
        // Stopping (Ctrl-C): what is left will not be done by this run, so no time is promised for it.
        const tail = options.stopping?.aborted ? 'stopping' : (waitText() ?? `ETA ${remaining}`);
        const text = ` ${params.value}/${counted(params.total, 'ticket')}${counts ? ` | ${counted(payload.events ?? 0, 'event')} | ${counted(payload.requests ?? 0, 'request')}` : ''}${aheadText(payload.ahead)} | ${tail}`;
        // The bar gives way to the text on a narrow terminal (a long line would be cut at its edge).
        const size = Math.max(10, Math.min(40, params.maxWidth - label.length - text.length - 3));
        const filled = Number.isFinite(params.progress) ? Math.round(Math.min(1, Math.max(0, params.progress)) * size) : 0;
        return `${label} ${BAR_COMPLETE.repeat(filled)}${BAR_INCOMPLETE.repeat(size - filled)}${text}`;
      },
      hideCursor: true,
      // Drawn again after a log line took its place, even when nothing changed.
      forceRedraw: true,
    });
    let started = false;
    let release: (() => void) | undefined;
    return {
      update(state) {
        remaining = eta(state.done, state.total, state.doneBefore);
        if (!started) {
          bar.start(state.total, state.done, { events: 0, requests: 0 });
          started = true;
          // Log lines are written above the bar instead of onto its line (src/log.ts).
          release = holdBottomLine(stream, {
            clear: () => {
              cursorTo(stream as NodeJS.WriteStream, 0);
              clearLine(stream as NodeJS.WriteStream, 0);
            },
            redraw: () => {
              // The bar's line moved down: it is where the cursor goes back to when the bar stops.
              stream.write('\x1B7');
              bar.render();
            },
          });
        }
        bar.setTotal(state.total);
        bar.update(state.done, { events: state.events, requests: state.requests, ahead: state.ahead });
      },
      waiting(next, source = '') {
        waits.delete(source);
        if (next) waits.set(source, { text: next.text, until: Date.now() + next.waitMs });
      },
      // Safe to call again (a command stops it before its summary, and once more on a failure).
      stop: () => {
        release?.();
        release = undefined;
        if (started) bar.stop();
        started = false;
      },
    };
  }
  let last = 0;
  let lastLine = '';
  const print = (state: ProgressState) => {
    const line = `${label}: ${state.done}/${counted(state.total, 'ticket')}${counts ? `, ${counted(state.events, 'event')}, ${counted(state.requests, 'request')}` : ''}${aheadText(state.ahead)}`;
    if (line !== lastLine) stream.write(`${line}\n`);
    lastLine = line;
  };
  let latest: ProgressState | undefined;
  return {
    update(state) {
      latest = state;
      if (Date.now() - last >= 5_000) {
        last = Date.now();
        print(state);
      }
    },
    waiting(next) {
      // One line a wait, and only a long one: pacing a second apart is not worth a line each.
      if (next) logWait(options.log, next);
    },
    stop: () => latest && print(latest),
  };
}

/**
 * "ETA" text for `done` of `total` tickets. cli-progress's own estimate reads the last few updates
 * only, so it printed "NFs" before a rate was known and rose whenever the last big tickets held
 * the count still. This one uses the average pace since the start and does not rise while its
 * previous estimate has time left; only a run slower than promised moves it up.
 */
export function etaEstimator(clock: () => number = Date.now): (done: number, total: number, doneBefore?: number) => string {
  const startedAt = clock();
  let last: { at: number; seconds: number } | undefined;
  return (done, total, doneBefore = 0) => {
    if (done >= total) return '0s';
    const now = clock();
    // Work an earlier run did took none of this run's time: counted, it promised seconds for hours.
    const doneHere = done - doneBefore;
    if (doneHere <= 0 || now <= startedAt) return '…';
    let seconds = ((now - startedAt) / 1000 / doneHere) * (total - done);
    const promised = last ? last.seconds - (now - last.at) / 1000 : 0;
    if (promised > 0) seconds = Math.min(seconds, promised);
    last = { at: now, seconds };
    return formatDuration(seconds);
  };
}

function formatDuration(seconds: number): string {
  const whole = Math.max(1, Math.ceil(seconds));
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}
