/**
 * The options of the locks, given to their constructors and to each
 * acquisition.
 *
 * @module
 */

import type { RecordOptions } from "./record_options.ts";

/**
 * Options of a lock, given to its constructor. Durations are milliseconds.
 * `prefix`, `label` and `identity` are {@linkcode RecordOptions}'.
 *
 * @example A short lease, a bounded wait and fencing tokens
 * ```ts
 * import type { LockOptions } from "@x/redis-lock";
 *
 * const options: LockOptions = { ttl: 10_000, blockingTimeout: 5_000, fencing: true };
 * ```
 */
export interface LockOptions extends RecordOptions {
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
   * Take a fencing token (strictly increasing per lock name, even after
   * Redis lost its counter) with each acquisition; read it from
   * `lock.fencingToken`. Leaves one counter key per lock name in Redis.
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
 * Options of one `RedisSpinLock` acquisition.
 *
 * @example Polling every 50 ms for at most 5 s
 * ```ts
 * import type { SpinAcquireOptions } from "@x/redis-lock";
 *
 * const options: SpinAcquireOptions = { sleepTime: 50, blockingTimeout: 5_000 };
 * ```
 */
export interface SpinAcquireOptions extends AcquireOptions {
  /**
   * Milliseconds between attempts (never past the deadline). A fair spin
   * lock polls at least every third of the shorter of its `handoffTimeout`
   * and `ttl` while queued, whatever this says.
   * @default {100}
   */
  sleepTime?: number;
}

/**
 * Options of a `RedisReadWriteLock`: `LockOptions` but `fair` (a read-write
 * lock always queues its waiters in arrival order). They apply to every
 * reader and writer made by `readLock()` and `writeLock()`. Durations are
 * milliseconds.
 *
 * @example Short leases and fencing tokens
 * ```ts
 * import type { ReadWriteLockOptions } from "@x/redis-lock";
 *
 * const options: ReadWriteLockOptions = { ttl: 10_000, fencing: true };
 * ```
 */
export type ReadWriteLockOptions = Omit<LockOptions, "fair">;

/**
 * Options of a `RedisSemaphore`, given to its constructor. Durations are
 * milliseconds. `limit` is required; the others are `LockOptions`' (there is
 * no `fencing`: a semaphore's holders are many at once), and
 * {@linkcode RecordOptions}'.
 *
 * @example At most 4 holders, each with a 10 s lease
 * ```ts
 * import type { SemaphoreOptions } from "@x/redis-lock";
 *
 * const options: SemaphoreOptions = { limit: 4, ttl: 10_000 };
 * ```
 */
export interface SemaphoreOptions extends RecordOptions {
  /**
   * How many holders at most: a whole number from 1 to 2^31-1. Every caller
   * of one name should pass the same limit; each caller is admitted only
   * while fewer than its own limit hold, so with different limits there are
   * never more holders than the largest limit in use, and callers with a
   * smaller limit wait while more than theirs hold.
   */
  limit: number;
  /**
   * Each holder's lease in ms: how long a permit outlives a holder that stops
   * renewing it (a crashed process).
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
   * Renew the lease about every `ttl / 3` while a permit is held, and abort
   * `signal` when a renewal finds it lost.
   * @default {true}
   */
  autoExtend?: boolean;
  /**
   * Fair mode: waiters queue in Redis in arrival order, and a release hands
   * its permit straight to the oldest live waiter. `false`: every waiting
   * process retries after a release (a race).
   * @default {true}
   */
  fair?: boolean;
  /**
   * Fair mode's bound on a dead waiter, in ms: a queued waiter refreshes its
   * place within this time, and a permit handed to a waiter that does not
   * take it up comes back after at most this.
   * @default {3_000}
   */
  handoffTimeout?: number;
}
