// While Zendesk's host cannot be reached (a DNS failure, a refused connection) every ticket would
// fail the same way. The worker then stops asking for tickets and probes the host instead, with
// a growing pause (5 s, 10 s, ... 60 s), for as long as it takes: a service keeps going, and the
// host may come back (DNS fixed, a proxy restarted). It says so once, then once a minute, then
// when Zendesk answers again.
import { errorMessage } from '../errors/messages.ts';
import { outcomeOf } from '../errors/outcome.ts';
import { ZendeskUnreachable } from '../errors/zendesk-errors.ts';
import type { Logger } from '../log.ts';
import { pause } from '../timing.ts';

export interface ZendeskGateOptions {
  /** One request to Zendesk; rejects with ZendeskUnreachable while the host cannot be reached. */
  probe: () => Promise<void>;
  log: Logger;
  signal: AbortSignal;
  firstPauseMs?: number;
  maxPauseMs?: number;
  summaryEveryMs?: number;
  /** Set when the worker gives up after this long (work --until-idle, sync): said in the first line. */
  giveUpAfterMs?: number;
  /** Who gives up after giveUpAfterMs, as the first line names it. */
  waiter?: string;
}

export interface ZendeskGate {
  /** True while Zendesk cannot be reached: take no ticket. */
  readonly closed: boolean;
  /** Milliseconds since the gate closed, 0 while open. */
  closedForMs(): number;
  /** Milliseconds until the next probe (0 when open): how long a ticket taken now should wait. */
  msUntilProbe(): number;
  /** Why tickets wait while closed: the latest probe's error, for their status. */
  reason(): string;
  /** A ticket found Zendesk unreachable: close, and probe until it answers. */
  close(error: ZendeskUnreachable): void;
  /**
   * Probes once at start-up, closing the gate if the host cannot be reached; never throws.
   * Resolves with the refusal when no ticket can succeed and waiting will not mend it (refused
   * credentials, a URL that is not Zendesk's API): what outcomeOf stops a worker for.
   */
  checkAtStart(): Promise<Error | undefined>;
}

export function createZendeskGate(options: ZendeskGateOptions): ZendeskGate {
  const firstPauseMs = options.firstPauseMs ?? 5_000;
  const maxPauseMs = options.maxPauseMs ?? 60_000;
  const summaryEveryMs = options.summaryEveryMs ?? 60_000;
  const { log, signal } = options;
  let closedSince = 0;
  let nextProbeAt = 0;
  let latest = '';
  // A run that ends (work --until-idle, sync) does so after --give-up-after: its line must not
  // promise to keep going.
  const outlook =
    options.giveUpAfterMs === undefined
      ? 'the worker keeps running and retrying'
      : `${options.waiter ?? 'with --until-idle the worker'} waits up to ${Math.round(options.giveUpAfterMs / 1000)} s for it (--give-up-after), then exits 1 with its tickets still queued`;

  const probeUntilOpen = async (error: ZendeskUnreachable) => {
    let pauseMs = firstPauseMs;
    let probes = 0;
    let lastSummary = Date.now();
    latest = errorMessage(error);
    log.error({ err: latest }, `${latest}; no ticket is taken until it answers (probing every ${firstPauseMs / 1000}–${maxPauseMs / 1000} s) and tickets keep their retries; ${outlook}`);
    while (!signal.aborted) {
      nextProbeAt = Date.now() + pauseMs;
      if (!(await pause(pauseMs, signal))) return;
      probes += 1;
      try {
        await options.probe();
        break;
      } catch (failure) {
        // Anything but an unreachable host (wrong credentials, say) is for the tickets to meet.
        if (!(failure instanceof ZendeskUnreachable)) break;
        latest = errorMessage(failure);
      }
      pauseMs = Math.min(pauseMs * 2, maxPauseMs);
      if (Date.now() - lastSummary >= summaryEveryMs) {
        const seconds = Math.round((Date.now() - closedSince) / 1000);
        log.warn({ err: latest, probes, seconds }, `Zendesk still cannot be reached after ${seconds} s (${probes} probes): ${latest}`);
        lastSummary = Date.now();
      }
    }
    if (signal.aborted) return;
    log.info({ seconds: Math.round((Date.now() - closedSince) / 1000), probes }, 'Zendesk answers again; taking tickets');
    closedSince = 0;
    nextProbeAt = 0;
  };

  const gate: ZendeskGate = {
    get closed() {
      return closedSince > 0;
    },
    reason: () => `waiting for Zendesk: ${latest}`,
    closedForMs: () => (closedSince > 0 ? Date.now() - closedSince : 0),
    msUntilProbe: () => (closedSince > 0 ? Math.max(0, nextProbeAt - Date.now()) : 0),
    close(error) {
      if (closedSince > 0) return;
      closedSince = Date.now();
      nextProbeAt = closedSince + firstPauseMs;
      void probeUntilOpen(error);
    },
    async checkAtStart() {
      try {
        await options.probe();
      } catch (error) {
        if (signal.aborted) return undefined;
        // Refused credentials or a URL that is not Zendesk's API do not come right by waiting:
        // the worker stops with that one line, as it would when a ticket met them.
        if (outcomeOf({ error, attempt: 1, retryLimit: 0, claimLost: false }).stopWorker) return error as Error;
        if (error instanceof ZendeskUnreachable) gate.close(error);
        else log.error({ err: errorMessage(error) }, `${errorMessage(error)}; the worker keeps running and retrying`);
      }
      return undefined;
    },
  };
  return gate;
}
