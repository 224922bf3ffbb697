/**
 * Error classes for lock outcomes. Bad arguments throw the built-in `TypeError`
 * or `RangeError` instead; these classes are for what a caller is meant to catch.
 *
 * @module
 */

import { shortName } from "../util/_format.ts";

/**
 * Base class of every lock outcome error. Carries the lock's name.
 *
 * @example Telling lock errors from other failures
 * ```ts
 * import { LockError } from "@x/redis-lock";
 *
 * try {
 *   throw new LockError("jobs:nightly", "example");
 * } catch (err) {
 *   if (err instanceof LockError) console.log(err.lockName);
 * }
 * ```
 */
export class LockError extends Error {
  /** The name of the lock this error is about. */
  readonly lockName: string;

  /**
   * Creates the error.
   * @param lockName The lock's name.
   * @param message What happened.
   * @param options `cause`: the underlying error, if any.
   */
  constructor(lockName: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LockError";
    this.lockName = lockName;
  }
}

/**
 * The lock could not be acquired before the blocking timeout elapsed
 * (thrown by `lock()` and `run()`).
 *
 * @example Handling a timeout
 * ```ts
 * import { LockTimeoutError } from "@x/redis-lock";
 *
 * const err = new LockTimeoutError("jobs:nightly", 10_000);
 * console.log(err.message, err.timeout);
 * ```
 */
export class LockTimeoutError extends LockError {
  /** The blocking timeout that elapsed, in milliseconds. */
  readonly timeout: number;

  /**
   * Creates the error.
   * @param lockName The lock's name.
   * @param timeout The blocking timeout that elapsed, in milliseconds.
   */
  constructor(lockName: string, timeout: number) {
    super(lockName, `Lock "${shortName(lockName)}" was not acquired within ${timeout} ms`);
    this.name = "LockTimeoutError";
    this.timeout = timeout;
  }
}

/**
 * This instance does not hold the lock: it never acquired it, already
 * released it, or its lease ran out (and maybe someone else holds it now).
 *
 * @example Releasing a lock that is not held
 * ```ts
 * import { LockNotOwnedError } from "@x/redis-lock";
 *
 * const err = new LockNotOwnedError("jobs:nightly", "the lease ran out");
 * console.log(err.name, err.message);
 * ```
 */
export class LockNotOwnedError extends LockError {
  /**
   * Creates the error.
   * @param lockName The lock's name.
   * @param reason Why the lock is not owned.
   */
  constructor(lockName: string, reason: string) {
    super(lockName, `Lock "${shortName(lockName)}" is not held by this instance: ${reason}`);
    this.name = "LockNotOwnedError";
  }
}

/**
 * The lease was lost while this instance held the lock: a renewal found the
 * key gone or held by someone else, or the lease's local deadline passed
 * without a successful renewal. `lock.signal` aborts with this error.
 *
 * @example Reacting to a lost lock
 * ```ts
 * import { LockLostError } from "@x/redis-lock";
 *
 * const err = new LockLostError("jobs:nightly", "the key was deleted");
 * console.log(err.name, err.message);
 * ```
 */
export class LockLostError extends LockError {
  /**
   * Creates the error.
   * @param lockName The lock's name.
   * @param reason How the loss was detected.
   * @param options `cause`: the underlying error, if any.
   */
  constructor(lockName: string, reason: string, options?: ErrorOptions) {
    super(lockName, `Lock "${shortName(lockName)}" was lost: ${reason}`, options);
    this.name = "LockLostError";
  }
}

/**
 * Redis did not answer, or failed on a dropped connection, until the end of
 * a wait: nothing is known about who holds the lock. `cause` is the client's
 * last error, when there was one. (`false` from `acquire()` and
 * {@linkcode LockTimeoutError} mean Redis answered that someone else held it.)
 *
 * @example Telling "Redis is down" from "the lock is busy"
 * ```ts
 * import { LockTimeoutError, LockUnavailableError } from "@x/redis-lock";
 *
 * function explain(err: unknown): string {
 *   if (err instanceof LockUnavailableError) return `Redis unreachable: ${err.cause}`;
 *   if (err instanceof LockTimeoutError) return "someone else holds it";
 *   return String(err);
 * }
 * console.log(explain(new LockUnavailableError("jobs:nightly", "no answer")));
 * ```
 */
export class LockUnavailableError extends LockError {
  /**
   * Creates the error.
   * @param lockName The lock's name.
   * @param reason What failed.
   * @param options `cause`: the client's error, if any.
   */
  constructor(lockName: string, reason: string, options?: ErrorOptions) {
    super(lockName, `Lock "${shortName(lockName)}" could not be reached: ${reason}`, options);
    this.name = "LockUnavailableError";
  }
}
