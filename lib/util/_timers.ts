/**
 * Timers as the library uses them: delays a timer accepts, and one way to
 * bound how long anything is awaited.
 *
 * @module
 */

import { now, refTimer, unrefTimer } from "./_runtime.ts";

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

/** A call scheduled on a {@linkcode TimerQueue}; pass it to `cancel()`. */
export interface Scheduled {
  /** When it is due, in `performance.now()` ms. */
  readonly at: number;
  readonly run: () => void;
}

/**
 * Many timers on one `setTimeout`: scheduling and cancelling a call is a
 * `Set` operation, and the one timer is re-armed only for a call due sooner
 * than it is armed for. The hot path of a lock sets a few timers that
 * almost never fire (a lease's renewal, an attempt's deadline) and cancels
 * them within a millisecond; with a timer queue, that costs no timer at all
 * in the steady state. A firing scans the pending calls (few: the locks held
 * or waited for now).
 *
 * With `keepAlive` the timer keeps the process alive while any call is
 * pending, as a `setTimeout` would; otherwise it never does (see
 * {@linkcode unrefTimer}). A timer left armed after its calls were
 * cancelled is unref'd, and finds nothing to do when it fires.
 */
export class TimerQueue {
  readonly #keepAlive: boolean;
  readonly #pending = new Set<Scheduled>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedAt = Infinity;
  #held = false;

  /** @param keepAlive Whether a pending call keeps the process alive. */
  constructor(keepAlive: boolean) {
    this.#keepAlive = keepAlive;
  }

  /** Calls `run` at `at` (`performance.now()` ms), unless cancelled first. */
  schedule(at: number, run: () => void): Scheduled {
    const entry = { at, run };
    this.#pending.add(entry);
    if (at < this.#armedAt) this.#arm(at);
    else if (this.#keepAlive && !this.#held) this.#hold(true);
    return entry;
  }

  /** Cancels `entry` (nothing happens when it has run or was cancelled already). */
  cancel(entry: Scheduled | undefined): void {
    if (entry && this.#pending.delete(entry) && this.#pending.size === 0 && this.#held) {
      this.#hold(false);
    }
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#armedAt = at;
    this.#timer = setTimeout(() => this.#fire(), timerDelay(at - now()));
    this.#held = true;
    if (!this.#keepAlive) this.#hold(false);
  }

  #hold(alive: boolean): void {
    this.#held = alive;
    if (alive) refTimer(this.#timer!);
    else unrefTimer(this.#timer!);
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    this.#held = false;
    const time = now();
    const due: Scheduled[] = [];
    let next = Infinity;
    for (const entry of this.#pending) {
      if (entry.at <= time) due.push(entry);
      else if (entry.at < next) next = entry.at;
    }
    for (const entry of due) this.#pending.delete(entry);
    if (next < Infinity) this.#arm(next);
    due.sort((a, b) => a.at - b.at);
    for (const entry of due) entry.run();
  }
}
