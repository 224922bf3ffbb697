/**
 * The attempts of one `acquire()`, bounded so that no Redis command can hold
 * a wait past its deadline or its signal:
 *
 * - each attempt races the deadline plus {@linkcode ATTEMPT_GRACE_MS} (so
 *   the last attempt, made at the deadline, still has time for its answer on
 *   a slow link), and the caller's signal plus the same grace: an abort
 *   rejects once the attempt in flight has answered (then a lock it took is
 *   released before the rejection) or the grace has run out;
 * - an attempt that fails on a dropped connection (the driver says the error
 *   is transient) is sent again, with the same token, after a short backoff,
 *   while the deadline leaves time.
 *
 * An attempt abandoned unanswered, or failed, may still have run in Redis:
 * taken the key or queued the waiter. `uncertain` then tells the caller to
 * release by token. The retry itself is safe: an attempt finds a key that
 * already holds its own token and counts it as taken.
 *
 * @module
 */

import type { RedisDriver } from "./driver.ts";
import type { AttemptResult } from "./options.ts";
import { now } from "./_runtime.ts";
import { MAX_TIMER_MS, Waiter } from "./_waiter.ts";

/**
 * How long after the deadline an unanswered attempt is given up (ms): an
 * `acquire()` whose connection stalls settles by `blockingTimeout` plus this.
 */
export const ATTEMPT_GRACE_MS = 500;
const FIRST_RETRY_MS = 25;
const MAX_RETRY_MS = 1_000;

/** See the module doc. */
export class BoundedAttempts {
  /**
   * Whether the latest attempt's outcome is unknown (it failed, or was
   * abandoned unanswered): it may have taken the lock.
   */
  uncertain = false;
  /** Whether the latest attempt was abandoned unanswered (the connection seems stalled). */
  stalled = false;
  readonly #run: () => Promise<AttemptResult>;
  readonly #driver: RedisDriver;
  readonly #deadline: number;
  readonly #signal: AbortSignal | undefined;

  /**
   * @param run Sends one attempt.
   * @param driver Tells which errors are worth a retry.
   * @param deadline The wait's deadline (`performance.now()` ms, may be Infinity).
   * @param signal The caller's signal.
   */
  constructor(
    run: () => Promise<AttemptResult>,
    driver: RedisDriver,
    deadline: number,
    signal: AbortSignal | undefined,
  ) {
    this.#run = run;
    this.#driver = driver;
    this.#deadline = deadline;
    this.#signal = signal;
  }

  /** One attempt, retried on transient errors; see the module doc. */
  async next(): Promise<AttemptResult> {
    let pause: Waiter | undefined; // only for a retry: nothing extra on the hot path
    for (let backoff = FIRST_RETRY_MS;; backoff = Math.min(2 * backoff, MAX_RETRY_MS)) {
      const sentAt = now();
      this.uncertain = true;
      let answer: AttemptResult | undefined;
      try {
        answer = await this.#bounded(this.#run(), sentAt);
      } catch (err) {
        const left = this.#deadline - now();
        if (this.#signal?.aborted || left <= 0 || !this.#driver.isTransient?.(err)) throw err;
        await (pause ??= new Waiter()).sleep(Math.min(backoff, left), this.#signal);
        continue;
      }
      this.stalled = answer === undefined;
      if (this.stalled) return { acquired: false, value: -1, sentAt };
      this.uncertain = false;
      return answer!;
    }
  }

  /**
   * Waits for a clean-up (leaving the queue, an UNSUBSCRIBE) for at most
   * {@linkcode ATTEMPT_GRACE_MS}, and not at all when the connection seems
   * stalled: it then finishes in the background.
   */
  async settle(cleanup: Promise<unknown>): Promise<void> {
    const done = cleanup.then(() => {}, () => {}); // a failed clean-up has nothing left to undo
    if (this.stalled) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => timer = setTimeout(resolve, ATTEMPT_GRACE_MS));
    try {
      await Promise.race([done, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * `attempt`'s answer; undefined when the grace after the deadline ran out
   * first. On abort it still waits up to {@linkcode ATTEMPT_GRACE_MS} for the
   * answer (so the caller's clean-up releases a lock it took before the
   * rejection), then rejects with the signal's reason either way.
   */
  #bounded(
    attempt: Promise<AttemptResult>,
    sentAt: number,
  ): Promise<AttemptResult | undefined> {
    const signal = this.#signal;
    const cutoff = Math.max(this.#deadline, sentAt) + ATTEMPT_GRACE_MS;
    const ms = cutoff - now();
    if (!signal && ms > MAX_TIMER_MS) return attempt;
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let aborted = false;
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        aborted = true;
        clearTimeout(timer);
        timer = setTimeout(() => {
          done();
          this.stalled = true;
          reject(signal!.reason);
        }, ATTEMPT_GRACE_MS);
      };
      if (ms <= MAX_TIMER_MS) {
        timer = setTimeout(() => {
          done();
          resolve(undefined);
        }, ms);
      }
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
      attempt.then((answer) => {
        done();
        if (aborted) reject(signal!.reason);
        else resolve(answer);
      }, (err) => {
        done();
        reject(aborted ? signal!.reason : err);
      });
    });
  }
}
