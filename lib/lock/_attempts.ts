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
 *   while the deadline leaves time;
 * - an attempt that still has no answer, or still fails that way, at the end
 *   rejects with a {@linkcode LockUnavailableError}: "Redis did not answer"
 *   is never reported as "the lock is held".
 *
 * An attempt abandoned unanswered, or failed, may still have run in Redis:
 * taken the key or queued the waiter. `uncertain` then tells the caller to
 * release by token, and an abandoned attempt that answers later that it
 * took the lock is released again then (its answer may come after the
 * release reached Redis). The retry itself is safe: an attempt finds a key
 * that already holds its own token and counts it as taken.
 *
 * @module
 */

import type { RedisDriver } from "../redis/driver.ts";
import { LockError, LockUnavailableError } from "./errors.ts";
import type { AttemptResult } from "../redis/_lock_ops.ts";
import { now } from "../util/_runtime.ts";
import { Waiter } from "../wait/_waiter.ts";
import { TimerQueue, within } from "../util/_timers.ts";

// The deadline bound of every attempt in flight, on one timer that keeps the
// process alive while an attempt is pending (as a setTimeout would).
const bounds = new TimerQueue(true);

/**
 * How long after the deadline (or an abort) an unanswered attempt is given
 * up, and clean-ups are waited for (ms): an `acquire()` settles by
 * `blockingTimeout` plus this, whatever the connection does.
 */
export const ATTEMPT_GRACE_MS = 500;
const FIRST_RETRY_MS = 25;
const MAX_RETRY_MS = 1_000;

/** What one acquisition's attempts need. */
export interface AttemptsSpec {
  /** The lock's name, for errors. */
  readonly name: string;
  /** Sends one attempt. */
  readonly run: () => Promise<AttemptResult>;
  /** Releases by token (for an abandoned attempt that answers late that it took the lock). */
  readonly release: () => Promise<unknown>;
  /** Tells which errors are worth a retry. */
  readonly driver: RedisDriver;
  /** The wait's deadline (`performance.now()` ms, may be Infinity). */
  readonly deadline: number;
  /** The caller's signal. */
  readonly signal: AbortSignal | undefined;
}

/** See the module doc. */
export class BoundedAttempts {
  /**
   * Whether the latest attempt's outcome is unknown (it failed, or was
   * abandoned unanswered): it may have taken the lock.
   */
  uncertain = false;
  readonly #spec: AttemptsSpec;
  #stalled = false;
  #abortedAt = Infinity;

  /** @param spec See {@linkcode AttemptsSpec}. */
  constructor(spec: AttemptsSpec) {
    this.#spec = spec;
  }

  /** One attempt, retried on transient errors; see the module doc. */
  async next(): Promise<AttemptResult> {
    const { driver, deadline, signal, name } = this.#spec;
    let pause: Waiter | undefined; // only for a retry: nothing extra on the hot path
    for (let backoff = FIRST_RETRY_MS;; backoff = Math.min(2 * backoff, MAX_RETRY_MS)) {
      this.uncertain = true;
      let answer: AttemptResult | undefined;
      try {
        answer = await this.#bounded(this.#spec.run());
      } catch (err) {
        const final = err instanceof LockError || !driver.isTransient?.(err);
        if (signal?.aborted || final) throw err;
        const left = deadline - now();
        if (left <= 0) {
          throw new LockUnavailableError(name, "Redis failed every attempt until the deadline", {
            cause: err,
          });
        }
        await (pause ??= new Waiter()).sleep(Math.min(backoff, left), signal);
        continue;
      }
      if (answer === undefined) {
        this.#stalled = true;
        throw new LockUnavailableError(
          name,
          `Redis did not answer within ${ATTEMPT_GRACE_MS} ms after the deadline`,
        );
      }
      this.uncertain = false;
      return answer;
    }
  }

  /**
   * Waits for a clean-up (leaving the queue, say) for at most
   * {@linkcode ATTEMPT_GRACE_MS}, never past the deadline (or the abort)
   * plus that grace, and not at all when the connection seems stalled: it
   * then finishes in the background.
   */
  async settle(cleanup: Promise<unknown>): Promise<void> {
    const done = cleanup.then(() => {}, () => {}); // a failed clean-up has nothing left to undo
    if (this.#stalled) return;
    const end = Math.min(this.#spec.deadline, this.#abortedAt) + ATTEMPT_GRACE_MS;
    const ms = Math.min(ATTEMPT_GRACE_MS, end - now());
    if (ms > 0) await within(done, ms, "clean-up", () => {});
  }

  /**
   * `attempt`'s answer; undefined when the grace after the deadline ran out
   * first (an absolute bound: an attempt sent late gets less of it). On abort it still waits up to {@linkcode ATTEMPT_GRACE_MS} for the
   * answer (so the caller's clean-up releases a lock it took before the
   * rejection), then rejects with the signal's reason either way.
   */
  #bounded(attempt: Promise<AttemptResult>): Promise<AttemptResult | undefined> {
    const { signal, deadline } = this.#spec;
    const end = deadline + ATTEMPT_GRACE_MS;
    if (!signal && !Number.isFinite(end)) return attempt;
    return new Promise((resolve, reject) => {
      let bound = Number.isFinite(end)
        ? bounds.schedule(end, () => {
          abandon();
          resolve(undefined);
        })
        : undefined;
      let aborted = false;
      const done = () => {
        bounds.cancel(bound);
        signal?.removeEventListener("abort", onAbort);
      };
      const abandon = () => {
        done();
        this.#stalled = true;
        this.#releaseIfTaken(attempt);
      };
      const onAbort = () => {
        aborted = true;
        const at = now();
        this.#abortedAt = Math.min(this.#abortedAt, at);
        bounds.cancel(bound);
        bound = bounds.schedule(at + ATTEMPT_GRACE_MS, () => {
          abandon();
          reject(signal!.reason);
        });
      };
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

  /**
   * An abandoned attempt may still run in Redis after the caller's release
   * by token (a redirect, a reconnect): if it answers that it took the lock
   * or queued the waiter, release again, so nothing outlives the acquisition
   * but by accident of a lost answer (then the key expires with its lease,
   * the queue entry with its liveness deadline).
   */
  #releaseIfTaken(attempt: Promise<AttemptResult>): void {
    attempt.then((late) => {
      // Taken, or queued again (fair mode): either would outlive the wait.
      if (late.acquired || late.entry !== undefined) this.#spec.release().catch(() => {});
    }, () => {});
  }
}
