/**
 * `RedisSpinLock`: the same lock, acquired by polling. Prefer `RedisLock`.
 *
 * @module
 */

import type { LockClient } from "../clients/lock_client.ts";
import type { WaitStrategy } from "../wait/_request.ts";
import { spinWaits } from "../wait/strategies.ts";
import { LockCore } from "./_lock_core.ts";
import type { LockOptions, SpinAcquireOptions } from "./options.ts";
import { checkDuration } from "./_validate.ts";

const SPIN_OPTIONS = ["sleepTime"];

/**
 * A lock that waits by polling: attempt, sleep `sleepTime`, attempt again.
 * It excludes `RedisLock` holders of the same name and needs no Pub/Sub, but
 * it wakes late and costs a round trip per attempt: prefer `RedisLock`, and
 * keep this one for special cases (a Redis proxy without Pub/Sub, for one).
 * It races (`fair: false`) unless given `fair: true`: then it queues like a
 * fair `RedisLock`, and polls at least every third of the shorter of its
 * `handoffTimeout` and `ttl` while queued.
 *
 * @example Acquire by polling
 * ```ts
 * import { RedisSpinLock } from "@x/redis-lock";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient().connect();
 * const spin = new RedisSpinLock(client, "foo");
 * await spin.run(() => console.log("held"), { sleepTime: 50, blockingTimeout: 5_000 });
 * await client.close();
 * ```
 */
export class RedisSpinLock implements AsyncDisposable {
  readonly #core: LockCore;

  /**
   * Creates a lock handle; nothing is sent to Redis until it is used.
   * @param client A node-redis, ioredis or Bun client (or cluster client), or a {@linkcode RedisDriver}.
   * @param name The lock's name: any non-empty string.
   * @param options See {@linkcode LockOptions}.
   * @throws {TypeError} For a client that is not supported, or an option of the wrong type.
   * @throws {RangeError} For an empty name or an out-of-range option.
   */
  constructor(client: LockClient, name: string, options?: LockOptions) {
    this.#core = new LockCore(client, name, options);
  }

  /** The polling strategy of one acquisition, with its `sleepTime`. */
  #strategy(options: SpinAcquireOptions | undefined): WaitStrategy {
    const sleepTime = options?.sleepTime === undefined
      ? 100
      : checkDuration("options.sleepTime", options.sleepTime, false);
    return spinWaits(this.#core.settings, sleepTime);
  }

  /** The lock's name. */
  get name(): string {
    return this.#core.name;
  }

  /** The lease length in ms given at construction. */
  get ttl(): number {
    return this.#core.settings.ttl;
  }

  /** Whether waiters queue first come, first served, or race (the default). */
  get fair(): boolean {
    return this.#core.settings.fair;
  }

  /** Fair mode's dead-waiter bound in ms (see {@linkcode LockOptions.handoffTimeout}). */
  get handoffTimeout(): number {
    return this.#core.settings.handoffTimeout;
  }

  /**
   * Takes the lock: one attempt, polling up to `blockingTimeout`, or until
   * `signal` aborts.
   * @param options See {@linkcode SpinAcquireOptions}.
   * @returns true when held; false when Redis answered, at the deadline,
   *   that someone else held it (`blocking: false`: at once).
   * @throws {LockError} When this instance already holds or awaits the lock.
   * @throws {LockUnavailableError} When Redis did not answer the last attempt.
   */
  async acquire(options?: SpinAcquireOptions): Promise<boolean> {
    return await this.#core.acquire(options, this.#strategy(options), SPIN_OPTIONS);
  }

  /**
   * Waits like {@linkcode RedisSpinLock.acquire}, but rejects when the timeout
   * elapses; the lock is `AsyncDisposable`, so `await using` releases it.
   * @param options See {@linkcode SpinAcquireOptions}.
   * @returns This lock, held.
   * @throws {LockTimeoutError} When someone else held it until the deadline.
   */
  async lock(options?: SpinAcquireOptions): Promise<this> {
    await this.#core.lock(options, this.#strategy(options), SPIN_OPTIONS);
    return this;
  }

  /**
   * Releases the lock: hands it to the oldest queued fair waiter, or deletes it,
   * if this instance still owns it. On a Redis error the instance still
   * counts as holding, so the release can be tried again.
   * @throws {LockNotOwnedError} When this instance does not hold the lock.
   */
  release(): Promise<void> {
    return this.#core.release();
  }

  /**
   * Waits like {@linkcode RedisSpinLock.lock}, runs `fn` with the lost-lock
   * signal, releases in `finally` and returns `fn`'s result.
   * @param fn The work to do while holding the lock.
   * @param options See {@linkcode SpinAcquireOptions}.
   * @returns What `fn` returned.
   * @throws {LockLostError} When the lease was lost while `fn` ran, even if `fn` resolved.
   * @throws {LockTimeoutError} When the lock was not acquired in time.
   */
  async run<T>(
    fn: (signal: AbortSignal) => Promise<T> | T,
    options?: SpinAcquireOptions,
  ): Promise<T> {
    return await this.#core.run(fn, options, this.#strategy(options), SPIN_OPTIONS);
  }

  /**
   * Sets the remaining lease to `ttl` ms; later renewals use that length.
   * @param ttl The new lease in ms. @default {the lock's ttl}
   * @throws {LockNotOwnedError} When this instance does not hold the lock.
   */
  extend(ttl?: number): Promise<void> {
    return this.#core.extend(ttl);
  }

  /**
   * Aborts with a `LockLostError` when the current acquisition's lease is
   * lost. A fresh signal for each acquisition; a release does not abort it.
   */
  get signal(): AbortSignal {
    return this.#core.signal;
  }

  /**
   * Whether this instance believes it holds the lock (no round trip): false
   * as soon as the lease's local deadline has passed, even before its timer
   * ran (a process resumed after a pause).
   */
  get held(): boolean {
    return this.#core.held;
  }

  /** The latest acquisition's fencing token (with `fencing: true`), else undefined. */
  get fencingToken(): number | undefined {
    return this.#core.fencingToken;
  }

  /** Whether this instance holds the lock now, according to Redis. */
  async owned(): Promise<boolean> {
    return await this.#core.remaining() > 0;
  }

  /** The lease left to this instance in ms, by Redis: 0 when not held, Infinity without TTL. */
  remaining(): Promise<number> {
    return this.#core.remaining();
  }

  /** Whether anyone holds the lock now, according to Redis. */
  locked(): Promise<boolean> {
    return this.#core.locked();
  }

  /** Releases when held; does nothing when not (also after the lease ran out). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#core.dispose();
  }
}
