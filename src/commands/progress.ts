// Progress of a long sync: a bar in a terminal, a plain line every few seconds otherwise
// (logs and CI output stay readable).
import cliProgress from 'cli-progress';

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

export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} {bar} {value}/{total} tickets | {events} events | {requests} requests | ETA {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(state) {
        if (!started) {
          bar.start(state.total, state.done, { events: 0, requests: 0 });
          started = true;
        }
        bar.setTotal(state.total);
        bar.update(state.done, { events: state.events, requests: state.requests });
      },
      stop: () => started && bar.stop(),
    };
  }
  let last = 0;
  let lastLine = '';
  const print = (state: ProgressState) => {
    const line = `${label}: ${state.done}/${state.total} tickets, ${state.events} events, ${state.requests} requests`;
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
