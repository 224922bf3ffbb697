/**
 * A waiter's parking spot: it sleeps until it is notified, a timeout passes,
 * or its signal aborts. A notification that arrives while it is awake is kept
 * for its next sleep, so a wake-up is never lost between two sleeps.
 *
 * @module
 */

/** The longest delay a timer accepts (about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647;

/** One waiter; see the module doc. */
export class Waiter {
  #wake: (() => void) | undefined;
  #pending = false;

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
    return this.until(undefined, ms, signal).then((r) => r === "notified");
  }

  /**
   * Waits for `promise` (if given), a notification, `ms` or an abort,
   * whichever comes first.
   */
  until(
    promise: Promise<unknown> | undefined,
    ms: number,
    signal?: AbortSignal,
  ): Promise<"settled" | "notified" | "timeout"> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve("notified");
    }
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#wake = undefined;
      };
      const onAbort = () => {
        finish();
        reject(signal!.reason);
      };
      const settle = (result: "settled" | "notified" | "timeout") => {
        if (this.#wake !== wake) return;
        finish();
        resolve(result);
      };
      const wake = () => settle("notified");
      this.#wake = wake;
      if (ms < Infinity) timer = setTimeout(() => settle("timeout"), Math.min(ms, MAX_TIMER_MS));
      signal?.addEventListener("abort", onAbort, { once: true });
      promise?.then(() => settle("settled"), (err) => {
        if (this.#wake !== wake) return;
        finish();
        reject(err);
      });
    });
  }
}
