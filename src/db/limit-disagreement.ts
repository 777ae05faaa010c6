// The warning a process logs when its limit for a budget is not the other processes': the lowest
// of them applies to every permit (src/db/rate-budget.ts), so a person who set one value in one
// place learns why the others go slower, or faster, than they were told.
import type { Logger } from '../log.ts';
import { DEFAULT_WINDOW_MS, type TakeResult } from './rate-budget.ts';

/**
 * Says once, for each other value met, that this process's limit is not the others': which both
 * are, and which applies (the lowest, to every process). Returns the check to run on each permit.
 */
export function disagreementLog(log: Logger, setting: string, own: number, windowMs: number): (result: TakeResult) => void {
  const told = new Set<number>();
  const per = windowMs === DEFAULT_WINDOW_MS ? 'a minute' : `per ${Math.round(windowMs / 1000)} s`;
  return ({ others }) => {
    if (others === null) return;
    if (others.low < own && !told.has(others.low)) {
      told.add(others.low);
      log.warn(
        { setting, limit: own, otherLimit: others.low, otherProcess: others.lowProcess },
        `${setting} is ${own} in this process but ${others.low} in another process taking permits (${others.lowProcess}): ` +
          `the lowest applies to every process, so together they keep to ${others.low} requests ${per} until that one stops`,
      );
    } else if (others.low >= own && others.high > own && !told.has(others.high)) {
      told.add(others.high);
      log.warn(
        { setting, limit: own, otherLimit: others.high },
        `${setting} is ${own} in this process but ${others.high} in the other processes taking permits: ` +
          `the lowest applies to every process, so together they keep to ${own} requests ${per} while this one runs`,
      );
    }
  };
}
