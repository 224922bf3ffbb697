/**
 * `RedisLock`: a distributed lock whose waiters sleep on Redis Pub/Sub and
 * are woken by the holder's release, instead of polling.
 *
 * @module
 */

import type { LockClient } from "../clients/lock_client.ts";
import type { WaitStrategy } from "../wait/_request.ts";
import { pubSubWaits } from "../wait/strategies.ts";
import { LockCore } from "./_lock_core.ts";
import type { AcquireOptions, LockOptions } from "./options.ts";
import type { InspectOptions, LockInspection } from "../redis/inspection.ts";
import { inspectPrimitive } from "./_inspect.ts";

/**
 * A distributed mutual-exclusion lock on Redis. Waiters queue in Redis in
 * arrival order and sleep on the lock's Pub/Sub channel; a release hands
 * the lock straight to the oldest live waiter (or, with `fair: false`, wakes
 * the waiters to race for it), so waiting costs no polling. Every wait is
 * still bounded by the holder's lease and the caller's deadline. One
 * instance is one holder; use a second instance for a second holder.
 *
 * @example Released at the end of the scope with `await using`
 * ```ts
 * import { RedisLock } from "@x/redis-lock";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient().connect();
 * {
 *   await using held = await new RedisLock(client, "foo", { blockingTimeout: 10_000 }).lock();
 *   console.log("Acquired", held.name);
 * } // released here, also when the block throws
 * await client.close();
 * ```
 *
 * @example Acquire and release by hand
 * ```ts
 * import { RedisLock } from "@x/redis-lock";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient({ url: "redis://127.0.0.1:6379" }).connect();
 * const lock = new RedisLock(client, "foo");
 * if (!(await lock.acquire())) throw new Error("someone else held it for 60 s");
 * try {
 *   console.log("Acquired lock successfully!");
 * } finally {
 *   await lock.release();
 * }
 * await client.close();
 * ```
 */
export class RedisLock implements AsyncDisposable {
  readonly #core: LockCore;
  readonly #strategy: WaitStrategy;

  /**
   * Creates a lock handle; nothing is sent to Redis until it is used.
   * @param client A node-redis, ioredis or Bun client (or cluster client), or a {@linkcode RedisDriver}.
   * @param name The lock's name: any non-empty string.
   * @param options See {@linkcode LockOptions}.
   * @throws {TypeError} For a client that is not supported, or an option of the wrong type.
   * @throws {RangeError} For an empty name or an out-of-range option.
   */
  constructor(client: LockClient, name: string, options?: LockOptions) {
    this.#core = new LockCore(client, name, options, { fair: true });
    this.#strategy = pubSubWaits(this.#core.settings);
  }

  /**
   * Who holds the lock called `name` (identity, age, lease left, fencing token) and
   * who waits in its queue, oldest first: one read-only script.
   * @param client A client as for the constructor.
   * @param name The lock's name.
   * @param options See {@linkcode InspectOptions}.
   * @returns Its holders and live queued waiters.
   * @throws {TypeError} For a client that is not supported or a bad option.
   * @throws {RangeError} For an empty name or an out-of-range option.
   * @example Who holds it, since when, and who waits
   * ```ts
   * import { type LockClient, RedisLock } from "@x/redis-lock";
   * declare const client: LockClient;
   *
   * const { holders, waiters } = await RedisLock.inspect(client, "reports:daily");
   * console.log(holders[0]?.identity?.host, holders[0]?.age, waiters.length);
   * ```
   */
  static inspect(
    client: LockClient,
    name: string,
    options?: InspectOptions,
  ): Promise<LockInspection> {
    return inspectPrimitive("lock", client, name, options);
  }

  /** The lock's name. */
  get name(): string {
    return this.#core.name;
  }

  /** The lease length in ms given at construction. */
  get ttl(): number {
    return this.#core.settings.ttl;
  }

  /** Whether waiters queue first come, first served (the default), or race. */
  get fair(): boolean {
    return this.#core.settings.fair;
  }

  /** Fair mode's dead-waiter bound in ms (see {@linkcode LockOptions.handoffTimeout}). */
  get handoffTimeout(): number {
    return this.#core.settings.handoffTimeout;
  }

  /**
   * Takes the lock: one attempt, a wait up to `blockingTimeout`, or until
   * `signal` aborts.
   * @param options See {@linkcode AcquireOptions}.
   * @returns true when held; false when Redis answered, at the deadline,
   *   that someone else held it (`blocking: false`: at once).
   * @throws {LockError} When this instance already holds or awaits the lock.
   * @throws {LockUnavailableError} When Redis did not answer the last attempt.
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#core.acquire(options, this.#strategy);
  }

  /**
   * Waits like {@linkcode RedisLock.acquire}, but rejects when the timeout
   * elapses; the lock is `AsyncDisposable`, so `await using` releases it.
   * @param options See {@linkcode AcquireOptions}.
   * @returns This lock, held.
   * @throws {LockTimeoutError} When someone else held it until the deadline.
   */
  async lock(options?: AcquireOptions): Promise<this> {
    await this.#core.lock(options, this.#strategy);
    return this;
  }

  /**
   * Releases the lock: hands it to the oldest queued waiter, or deletes it,
   * if this instance still owns it. On a Redis error the instance still
   * counts as holding, so the release can be tried again.
   * @throws {LockNotOwnedError} When this instance does not hold the lock.
   */
  release(): Promise<void> {
    return this.#core.release();
  }

  /**
   * Waits like {@linkcode RedisLock.lock}, runs `fn` with the lost-lock
   * signal, releases in `finally` and returns `fn`'s result.
   * @param fn The work to do while holding the lock.
   * @param options See {@linkcode AcquireOptions}.
   * @returns What `fn` returned.
   * @throws {LockLostError} When the lease was lost while `fn` ran, even if `fn` resolved.
   * @throws {LockTimeoutError} When the lock was not acquired in time.
   */
  run<T>(fn: (signal: AbortSignal) => Promise<T> | T, options?: AcquireOptions): Promise<T> {
    return this.#core.run(fn, options, this.#strategy);
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
