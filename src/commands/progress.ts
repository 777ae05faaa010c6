// Progress of a long sync: a bar in a terminal, a plain line every few seconds otherwise
// (logs and CI output stay readable).
import cliProgress from 'cli-progress';
import type { OutputStream } from './types.ts';

export interface ProgressState {
  done: number;
  total: number;
  events: number;
  requests: number;
}

export interface Progress {
  update(state: ProgressState): void;
  stop(): void;
}

export function createProgress(label: string, stream: OutputStream, options: { counts?: boolean } = {}): Progress {
  // Work that makes no requests (rebuild-analytics) shows tickets only.
  const counts = options.counts ?? true;
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        // A terminal's stream: the bar moves its cursor.
        stream: stream as NodeJS.WriteStream,
        format: `${label} {bar} {value}/{total} tickets${counts ? ' | {events} events | {requests} requests' : ''} | ETA {remaining}`,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    const eta = etaEstimator();
    return {
      update(state) {
        if (!started) {
          bar.start(state.total, state.done, { events: 0, requests: 0, remaining: '…' });
          started = true;
        }
        bar.setTotal(state.total);
        bar.update(state.done, { events: state.events, requests: state.requests, remaining: eta(state.done, state.total) });
      },
      stop: () => started && bar.stop(),
    };
  }
  let last = 0;
  let lastLine = '';
  const print = (state: ProgressState) => {
    const line = `${label}: ${state.done}/${state.total} tickets${counts ? `, ${state.events} events, ${state.requests} requests` : ''}`;
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
    stop: () => latest && print(latest),
  };
}

/**
 * "ETA" text for `done` of `total` tickets. cli-progress's own estimate reads the last few updates
 * only, so it printed "NFs" before a rate was known and rose whenever the last big tickets held
 * the count still. This one uses the average pace since the start and does not rise while its
 * previous estimate has time left; only a run slower than promised moves it up.
 */
export function etaEstimator(clock: () => number = Date.now): (done: number, total: number) => string {
  const startedAt = clock();
  let last: { at: number; seconds: number } | undefined;
  return (done, total) => {
    if (done >= total) return '0s';
    const now = clock();
    if (done <= 0 || now <= startedAt) return '…';
    let seconds = ((now - startedAt) / 1000 / done) * (total - done);
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
