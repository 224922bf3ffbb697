/**
 * `RedisReadWriteHolder`: one reader or one writer of a
 * `RedisReadWriteLock`, with the lock's API.
 *
 * @module
 */

import type { WaitStrategy } from "../wait/_request.ts";
import type { LockCore } from "./_lock_core.ts";
import type { AcquireOptions } from "./options.ts";

/**
 * One reader or one writer of a {@linkcode RedisReadWriteLock}, made by its
 * `readLock()` or `writeLock()`. It has `RedisLock`'s API, and one object is
 * one holder: take a new one for each concurrent holder. Readers share the
 * lock with each other; a writer holds it alone; all wait in one queue, in
 * arrival order.
 *
 * @example Read under a shared lock, released with `await using`
 * ```ts
 * import { RedisReadWriteLock } from "@x/redis-lock";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient().connect();
 * const rw = new RedisReadWriteLock(client, "catalog");
 * {
 *   await using reader = await rw.readLock().lock();
 *   console.log("reading; other readers may too", reader.mode);
 * }
 * await client.close();
 * ```
 */
export class RedisReadWriteHolder implements AsyncDisposable {
  readonly #core: LockCore;
  readonly #strategy: WaitStrategy;
  readonly #mode: "read" | "write";

  /**
   * Made by `RedisReadWriteLock.readLock()` and `writeLock()`; not meant to
   * be called directly.
   * @param core This holder's core.
   * @param strategy How it waits.
   * @param mode "read" or "write".
   */
  constructor(core: LockCore, strategy: WaitStrategy, mode: "read" | "write") {
    this.#core = core;
    this.#strategy = strategy;
    this.#mode = mode;
  }

  /** The lock's name. */
  get name(): string {
    return this.#core.name;
  }

  /** Which side this holder is on: "read" (shared) or "write" (exclusive). */
  get mode(): "read" | "write" {
    return this.#mode;
  }

  /**
   * Takes this side of the lock: one attempt, a wait up to
   * `blockingTimeout`, or until `signal` aborts.
   * @param options See {@linkcode AcquireOptions}.
   * @returns true when held; false when Redis answered, at the deadline,
   *   that it could not be taken (`blocking: false`: at once).
   * @throws {LockError} When this holder already holds or awaits the lock.
   * @throws {LockUnavailableError} When Redis did not answer the last attempt.
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#core.acquire(options, this.#strategy);
  }

  /**
   * Waits like {@linkcode RedisReadWriteHolder.acquire}, but rejects when
   * the timeout elapses; `await using` releases it.
   * @param options See {@linkcode AcquireOptions}.
   * @returns This holder, holding.
   * @throws {LockTimeoutError} When it could not be taken before the deadline.
   */
  async lock(options?: AcquireOptions): Promise<this> {
    await this.#core.lock(options, this.#strategy);
    return this;
  }

  /**
   * Lets go, handing the lock on from the queue's head: a writer's release
   * admits every reader queued up to the next writer, or that writer; the
   * last reader's release admits the writer at the head.
   * @throws {LockNotOwnedError} When this holder does not hold the lock.
   */
  release(): Promise<void> {
    return this.#core.release();
  }

  /**
   * Waits like {@linkcode RedisReadWriteHolder.lock}, runs `fn` with the
   * lost-lock signal, releases in `finally` and returns `fn`'s result.
   * @param fn The work to do while holding.
   * @param options See {@linkcode AcquireOptions}.
   * @returns What `fn` returned.
   * @throws {LockLostError} When the lease was lost while `fn` ran, even if `fn` resolved.
   * @throws {LockTimeoutError} When it was not taken in time.
   */
  run<T>(fn: (signal: AbortSignal) => Promise<T> | T, options?: AcquireOptions): Promise<T> {
    return this.#core.run(fn, options, this.#strategy);
  }

  /**
   * Sets the remaining lease to `ttl` ms; later renewals use that length.
   * @param ttl The new lease in ms. @default {the lock's ttl}
   * @throws {LockNotOwnedError} When this holder does not hold the lock.
   */
  extend(ttl?: number): Promise<void> {
    return this.#core.extend(ttl);
  }

  /** Aborts with a `LockLostError` when the current acquisition's lease is lost. */
  get signal(): AbortSignal {
    return this.#core.signal;
  }

  /** Whether this holder believes it holds the lock (no round trip). */
  get held(): boolean {
    return this.#core.held;
  }

  /**
   * With `fencing: true`: a writer's token, new and larger for every write
   * acquisition; a reader's is the token of the last write acquisition
   * before it (0 if none), which may have written nothing (a writer that
   * crashed, or gave up as the lock was handed to it). Else undefined.
   */
  get fencingToken(): number | undefined {
    return this.#core.fencingToken;
  }

  /** Whether this holder holds the lock now, according to Redis. */
  async owned(): Promise<boolean> {
    return await this.#core.remaining() > 0;
  }

  /** The lease left to this holder in ms, by Redis: 0 when not held. */
  remaining(): Promise<number> {
    return this.#core.remaining();
  }

  /**
   * Whether this side could not be taken now, according to Redis: a writer
   * holds, or (for a writer) a reader holds or anyone waits, or (for a
   * reader) a writer is queued.
   */
  locked(): Promise<boolean> {
    return this.#core.locked();
  }

  /** Releases when held; does nothing when not (also after the lease ran out). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#core.dispose();
  }
}
