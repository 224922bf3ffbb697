/**
 * `RedisSemaphore`: at most `limit` holders at once, each with its own
 * lease, waiters queued first come first served and woken by Pub/Sub.
 *
 * @module
 */

import type { LockClient } from "../clients/lock_client.ts";
import type { SemaphoreOps } from "../redis/_semaphore_ops.ts";
import type { WaitStrategy } from "../wait/_request.ts";
import { pubSubWaits } from "../wait/strategies.ts";
import { LockCore } from "./_lock_core.ts";
import type { InspectOptions, LockInspection } from "../redis/inspection.ts";
import { inspectPrimitive } from "./_inspect.ts";
import type { AcquireOptions, SemaphoreOptions } from "./options.ts";
import { semaphorePrimitive, splitOptions } from "./_semaphore_settings.ts";

/**
 * A distributed counting semaphore on Redis: at most `limit` holders at
 * once. Each holder has its own lease, renewed while held, so a crashed
 * holder's permit comes back when its lease ends. Waiters queue in Redis in
 * arrival order and sleep on Pub/Sub; a release hands its permit straight
 * to the oldest live waiter (or, with `fair: false`, wakes the waiters to
 * race for it). One instance is one holder of one permit, exactly as one
 * `RedisLock` is one holder: the same methods, getters and errors.
 *
 * A semaphore and a lock of the same name are independent (their keys
 * differ). Callers of one name should pass the same `limit`; see
 * {@linkcode SemaphoreOptions.limit} for what different limits do.
 *
 * @example At most 4 exports at once
 * ```ts
 * import { RedisSemaphore } from "@x/redis-lock";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient().connect();
 * const sem = new RedisSemaphore(client, "exports", { limit: 4 });
 * {
 *   await using _permit = await sem.lock(); // one of at most 4 holders
 *   console.log("free permits:", await sem.available());
 * } // released here
 * await sem.run(async (signal) => {
 *   // signal aborts if the permit's lease is lost
 * });
 * await client.close();
 * ```
 */
export class RedisSemaphore implements AsyncDisposable {
  readonly #core: LockCore;
  readonly #strategy: WaitStrategy;
  readonly #limit: number;
  #ops!: SemaphoreOps;

  /**
   * Creates a semaphore handle (one holder); nothing is sent to Redis until it is used.
   * @param client A node-redis, ioredis or Bun client (or cluster client), or a {@linkcode RedisDriver}.
   * @param name The semaphore's name: any non-empty string.
   * @param options See {@linkcode SemaphoreOptions}; `limit` is required.
   * @throws {TypeError} For a client that is not supported, a missing limit, an unknown option or one of the wrong type.
   * @throws {RangeError} For an empty name or an out-of-range option.
   */
  constructor(client: LockClient, name: string, options: SemaphoreOptions) {
    const { limit, rest } = splitOptions(options);
    this.#limit = limit;
    const primitive = semaphorePrimitive(limit, (ops) => this.#ops = ops);
    this.#core = new LockCore(client, name, rest, { fair: true }, primitive);
    this.#strategy = pubSubWaits(this.#core.settings);
  }

  /**
   * Who holds the semaphore called `name` (identity, age, lease left) and
   * who waits in its queue, oldest first: one read-only script.
   * @param client A client as for the constructor.
   * @param name The semaphore's name.
   * @param options See {@linkcode InspectOptions}.
   * @returns Its holders and live queued waiters.
   * @throws {TypeError} For a client that is not supported or a bad option.
   * @throws {RangeError} For an empty name or an out-of-range option.
   * @example Who holds it, since when, and who waits
   * ```ts
   * import { type LockClient, RedisSemaphore } from "@x/redis-lock";
   * declare const client: LockClient;
   *
   * const { holders, waiters } = await RedisSemaphore.inspect(client, "exports");
   * console.log(holders[0]?.identity?.host, holders[0]?.age, waiters.length);
   * ```
   */
  static inspect(
    client: LockClient,
    name: string,
    options?: InspectOptions,
  ): Promise<LockInspection> {
    return inspectPrimitive("semaphore", client, name, options);
  }

  /** The semaphore's name. */
  get name(): string {
    return this.#core.name;
  }

  /** How many holders at most (this instance's limit). */
  get limit(): number {
    return this.#limit;
  }

  /** Each holder's lease length in ms given at construction. */
  get ttl(): number {
    return this.#core.settings.ttl;
  }

  /** Whether waiters queue first come, first served (the default), or race. */
  get fair(): boolean {
    return this.#core.settings.fair;
  }

  /** Fair mode's dead-waiter bound in ms (see {@linkcode SemaphoreOptions.handoffTimeout}). */
  get handoffTimeout(): number {
    return this.#core.settings.handoffTimeout;
  }

  /**
   * Takes a permit: one attempt, a wait up to `blockingTimeout`, or until
   * `signal` aborts.
   * @param options See {@linkcode AcquireOptions}.
   * @returns true when held; false when Redis answered, at the deadline,
   *   that no permit was free (`blocking: false`: at once).
   * @throws {LockError} When this instance already holds or awaits a permit.
   * @throws {LockUnavailableError} When Redis did not answer the last attempt.
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#core.acquire(options, this.#strategy);
  }

  /**
   * Waits like {@linkcode RedisSemaphore.acquire}, but rejects when the
   * timeout elapses; `await using` releases the permit.
   * @param options See {@linkcode AcquireOptions}.
   * @returns This semaphore, holding a permit.
   * @throws {LockTimeoutError} When no permit came free until the deadline.
   */
  async lock(options?: AcquireOptions): Promise<this> {
    await this.#core.lock(options, this.#strategy);
    return this;
  }

  /**
   * Releases the permit: hands it to the oldest queued waiter, or frees it,
   * if this instance still holds it. On a Redis error the instance still
   * counts as holding, so the release can be tried again.
   * @throws {LockNotOwnedError} When this instance holds no permit.
   */
  release(): Promise<void> {
    return this.#core.release();
  }

  /**
   * Waits like {@linkcode RedisSemaphore.lock}, runs `fn` with the
   * lost-permit signal, releases in `finally` and returns `fn`'s result.
   * @param fn The work to do while holding a permit.
   * @param options See {@linkcode AcquireOptions}.
   * @returns What `fn` returned.
   * @throws {LockLostError} When the lease was lost while `fn` ran, even if `fn` resolved.
   * @throws {LockTimeoutError} When no permit was acquired in time.
   */
  run<T>(fn: (signal: AbortSignal) => Promise<T> | T, options?: AcquireOptions): Promise<T> {
    return this.#core.run(fn, options, this.#strategy);
  }

  /**
   * Sets the remaining lease to `ttl` ms; later renewals use that length.
   * @param ttl The new lease in ms. @default {the semaphore's ttl}
   * @throws {LockNotOwnedError} When this instance holds no permit.
   */
  extend(ttl?: number): Promise<void> {
    return this.#core.extend(ttl);
  }

  /**
   * Aborts with a `LockLostError` when the current permit's lease is lost.
   * A fresh signal for each acquisition; a release does not abort it.
   */
  get signal(): AbortSignal {
    return this.#core.signal;
  }

  /** Whether this instance believes it holds a permit (no round trip). */
  get held(): boolean {
    return this.#core.held;
  }

  /** Whether this instance holds a permit now, according to Redis. */
  async owned(): Promise<boolean> {
    return await this.#core.remaining() > 0;
  }

  /** The lease left to this instance's permit in ms, by Redis: 0 when not held. */
  remaining(): Promise<number> {
    return this.#core.remaining();
  }

  /** Whether no permit is free now (`limit` live holders or more), according to Redis. */
  locked(): Promise<boolean> {
    return this.#core.locked();
  }

  /** How many permits are free now: `limit` minus the live holders, never below 0. */
  async available(): Promise<number> {
    return Math.max(0, this.#limit - await this.#ops.holders());
  }

  /** Releases when held; does nothing when not (also after the lease ran out). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#core.dispose();
  }
}
