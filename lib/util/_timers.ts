/**
 * Timers as the library uses them: delays a timer accepts, and one way to
 * bound how long anything is awaited.
 *
 * @module
 */

import { unrefTimer } from "./_runtime.ts";

/** The longest delay a timer accepts (about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647;

/** `ms` as a timer accepts it: from 0 (a deadline already past) to {@linkcode MAX_TIMER_MS}. */
export function timerDelay(ms: number): number {
  return Math.max(0, Math.min(ms, MAX_TIMER_MS));
}

/**
 * Settles like `op`, or, when it has not settled within `ms`, rejects with
 * an error saying `what` (with `onTimeout`: resolves with its value
 * instead). The timer never keeps the process alive.
 */
export function within<T, U = never>(
  op: Promise<T>,
  ms: number,
  what: string,
  onTimeout?: () => U,
): Promise<T | U> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<U>((resolve, reject) => {
    timer = unrefTimer(setTimeout(() => {
      if (onTimeout) resolve(onTimeout());
      else reject(new Error(`${what} within ${ms} ms`));
    }, timerDelay(ms)));
  });
  return Promise.race([op, late]).finally(() => clearTimeout(timer));
}
