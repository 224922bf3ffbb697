/**
 * A waiter's parking spot: it sleeps until it is notified, a timeout passes,
 * or its signal aborts. A notification that arrives while it is awake is kept
 * for its next sleep, so a wake-up is never lost between two sleeps.
 *
 * @module
 */

import { now } from "../util/_runtime.ts";
import { type Scheduled, TimerQueue } from "../util/_timers.ts";

// Sleeps' timeouts, on one timer that keeps the process alive while a
// waiter sleeps (as a setTimeout would).
const timeouts = new TimerQueue(true);

/** A hand-off received by a fair waiter. */
export interface Grant {
  /** The fencing token taken for it (0 without fencing). */
  readonly fence: number;
  /** How long the hand-off holds the key, in ms from when the release ran. */
  readonly lease: number;
  /** The id of the queue entry it served (see `AttemptResult.entry`). */
  readonly entry: number;
}

/** One waiter; see the module doc. */
export class Waiter {
  /** The acquisition token, for fair waiters whom a release can name. */
  readonly token: string | undefined;
  /** The hand-off made to this waiter, once its message has arrived. */
  grant: Grant | undefined;
  #wake: (() => void) | undefined;
  #pending = false;

  /** @param token The acquisition token, when releases may hand the lock to this waiter. */
  constructor(token?: string) {
    this.token = token;
  }

  /** Records a hand-off to this waiter and wakes it. */
  granted(grant: Grant): void {
    this.grant = grant;
    this.notify();
  }

  /** Wakes the waiter now, or at its next sleep if it is awake. */
  notify(): void {
    if (this.#wake) this.#wake();
    else this.#pending = true;
  }

  /**
   * Sleeps up to `ms` (Infinity: until notified). Resolves `true` when
   * notified, `false` on timeout; rejects with `signal.reason` on abort.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve(true);
    }
    return this.#park(undefined, ms, signal).then((r) => r === "notified");
  }

  /**
   * Waits for `promise`, `ms` or an abort, whichever comes first. A
   * notification meanwhile is kept for the next sleep, not consumed.
   */
  until(promise: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return this.#park(promise, ms, signal).then((r) => r === "settled");
  }

  #park(
    promise: Promise<unknown> | undefined,
    ms: number,
    signal?: AbortSignal,
  ): Promise<"settled" | "notified" | "timeout"> {
    return new Promise((resolve, reject) => {
      let timer: Scheduled | undefined;
      let done = false;
      const finish = () => {
        done = true;
        timeouts.cancel(timer);
        signal?.removeEventListener("abort", onAbort);
        if (this.#wake === wake) this.#wake = undefined;
      };
      const onAbort = () => {
        finish();
        reject(signal!.reason);
      };
      const settle = (result: "settled" | "notified" | "timeout") => {
        if (done) return;
        finish();
        resolve(result);
      };
      const wake = () => settle("notified");
      if (!promise) this.#wake = wake; // else a notification stays pending
      if (ms < Infinity) timer = timeouts.schedule(now() + ms, () => settle("timeout"));
      signal?.addEventListener("abort", onAbort, { once: true });
      promise?.then(() => settle("settled"), (err) => {
        if (done) return;
        finish();
        reject(err);
      });
    });
  }
}
