/**
 * Options and the types a wait strategy works with.
 *
 * @module
 */

import type { RedisDriver } from "../redis/driver.ts";

/**
 * Options of a lock, given to its constructor. Durations are milliseconds.
 *
 * @example A short lease, a bounded wait and fencing tokens
 * ```ts
 * import type { LockOptions } from "@x/redis-lock";
 *
 * const options: LockOptions = { ttl: 10_000, blockingTimeout: 5_000, fencing: true };
 * ```
 */
export interface LockOptions {
  /**
   * Lease length in ms: how long the lock outlives a holder that stops
   * renewing it (for example a crashed process).
   * @default {30_000}
   */
  ttl?: number;
  /**
   * How long `acquire()` and `lock()` wait, in ms. `Infinity` waits forever;
   * `0` makes one attempt.
   * @default {60_000}
   */
  blockingTimeout?: number;
  /**
   * Renew the lease about every `ttl / 3` while the lock is held, and abort
   * `lock.signal` when a renewal finds the lock lost.
   * @default {true}
   */
  autoExtend?: boolean;
  /**
   * Take a fencing token (a per-name counter, strictly increasing) with
   * each acquisition; read it from `lock.fencingToken`. Leaves one counter
   * key per lock name in Redis.
   * @default {false}
   */
  fencing?: boolean;
  /**
   * Fair mode: waiters queue in Redis in arrival order, and a release hands
   * the lock straight to the oldest live waiter (first come, first served,
   * no race after a release). `false` keeps the classic race, where every
   * waiting process retries after a release.
   * @default {true for RedisLock, false for RedisSpinLock}
   */
  fair?: boolean;
  /**
   * Fair mode's bound on a dead waiter, in ms: a queued waiter must refresh
   * its place within this time, and a hand-off not taken up within it passes
   * on. A waiter killed while queued delays the others by at most about this.
   * @default {3_000}
   */
  handoffTimeout?: number;
}

/**
 * Options of one `acquire()`, `lock()` or `run()` call.
 *
 * @example Waiting at most 2 s, cancellable
 * ```ts
 * import type { AcquireOptions } from "@x/redis-lock";
 *
 * const controller = new AbortController();
 * const options: AcquireOptions = { blockingTimeout: 2_000, signal: controller.signal };
 * ```
 */
export interface AcquireOptions {
  /**
   * Wait for the lock when it is held. With `false`, one attempt is made.
   * @default {true}
   */
  blocking?: boolean;
  /**
   * How long to wait, in ms; overrides the lock's `blockingTimeout`.
   * `Infinity` waits forever.
   * @default {the lock's blockingTimeout}
   */
  blockingTimeout?: number;
  /**
   * Cancels the wait: the call rejects with `signal.reason` and leaves no
   * key, subscription or timer behind.
   */
  signal?: AbortSignal;
}

/**
 * The outcome of one acquisition attempt.
 *
 * @example
 * ```ts
 * import type { AttemptResult } from "@x/redis-lock";
 *
 * const held: AttemptResult = { acquired: false, value: 1200, sentAt: performance.now() };
 * ```
 */
export interface AttemptResult {
  /** Whether the attempt took the lock. */
  readonly acquired: boolean;
  /**
   * When acquired: the fencing token (0 without fencing). Otherwise: the
   * holder's remaining lease in ms (-1 when the key has no TTL).
   */
  readonly value: number;
  /** When the attempt was sent, in `performance.now()` milliseconds. */
  readonly sentAt: number;
  /**
   * Set when the lock came as a fair-mode hand-off message: how long, in ms
   * from `sentAt`, the hand-off holds the key until the first renewal.
   */
  readonly granted?: number;
  /**
   * Set when a fair-mode attempt left this waiter queued: the id of its
   * queue entry, which a hand-off to it names. A hand-off naming another
   * entry was made before this answer, and is stale.
   */
  readonly entry?: number;
}

/**
 * What a lock's wait strategy is given for one `acquire()`.
 *
 * @example A strategy that makes one attempt
 * ```ts
 * import type { AttemptResult, WaitRequest } from "@x/redis-lock";
 *
 * const once = (request: WaitRequest): Promise<AttemptResult> => request.attempt();
 * ```
 */
export interface WaitRequest {
  /**
   * Makes one atomic attempt to take the lock. In fair mode a failed attempt
   * also joins the queue (or refreshes this waiter's place in it). It settles
   * by the deadline (plus a short grace) or the signal, even when Redis does
   * not answer, and is retried after a dropped connection.
   */
  attempt(): Promise<AttemptResult>;
  /** This acquisition's token (fair mode hands the lock over by token). */
  readonly token: string;
  /** When to give up, in `performance.now()` milliseconds (may be Infinity). */
  readonly deadline: number;
  /** The caller's cancellation signal. */
  readonly signal?: AbortSignal;
  /** The lock's Pub/Sub channel, on which releases are announced. */
  readonly channel: string;
  /** The driver the lock talks to Redis through. */
  readonly driver: RedisDriver;
}
