/**
 * What every lock of this package shares: acquisition bookkeeping, release,
 * ownership checks, the lease, `run()` and `await using`. Subclasses only
 * decide how to wait ({@linkcode BaseLock._wait}).
 *
 * @module
 */

import type { RedisDriver } from "../redis/driver.ts";
import { LockError, LockNotOwnedError, LockTimeoutError } from "./errors.ts";
import { Lease } from "./_lease.ts";
import { type LockKeys, lockKeys } from "../redis/_keys.ts";
import type { AcquireOptions, AttemptResult, LockOptions, WaitRequest } from "./options.ts";
import { resolveDriver } from "../clients/_detect.ts";
import { now } from "../util/_runtime.ts";
import { LockOps } from "../redis/_lock_ops.ts";
import { SubscriberManager } from "../wait/subscriber_manager.ts";
import { runHeld } from "./_run.ts";
import { acquisition } from "./_acquisition.ts";
import * as check from "./_validate.ts";
import { acquireSettings, type LockSettings, lockSettings } from "./_settings.ts";
import { showValue } from "../util/_format.ts";

const NEVER = new AbortController().signal;

interface Held {
  readonly token: string;
  readonly lease: Lease;
}

/**
 * The shared base of {@linkcode RedisLock} and {@linkcode RedisSpinLock}. One
 * instance is one holder: it holds the lock at most once at a time.
 *
 * @example Any lock of this package
 * ```ts
 * import { type BaseLock, RedisLock } from "@x/redis-lock";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient().connect();
 * const lock: BaseLock = new RedisLock(client, "jobs:nightly");
 * await lock.run(() => console.log("only one of us prints this at a time"));
 * await client.close();
 * ```
 */
export abstract class BaseLock<A extends AcquireOptions = AcquireOptions>
  implements AsyncDisposable {
  /** The lock's name. */
  readonly name: string;
  /** The lease length in ms given at construction. */
  readonly ttl: number;
  /** Whether this lock waits in fair (first come, first served) mode. */
  readonly fair: boolean;
  /** Fair mode's dead-waiter bound in ms (see {@linkcode LockOptions.handoffTimeout}). */
  readonly handoffTimeout: number;
  readonly #driver: RedisDriver;
  readonly #keys: LockKeys;
  readonly #ops: LockOps;
  readonly #settings: LockSettings;
  #waiting = false;
  #held: Held | undefined;
  #signal: AbortSignal = NEVER;
  #fence: number | undefined;

  /** Names of the acquire options a subclass adds. */
  protected readonly _extraAcquireOptions: readonly string[] = [];

  /**
   * Creates a lock handle; nothing is sent to Redis until it is used.
   * @param client A node-redis, ioredis or Bun client (or cluster client), or a {@linkcode RedisDriver}.
   * @param name The lock's name: any non-empty string.
   * @param options See {@linkcode LockOptions}.
   * @param defaults Defaults a subclass sets differently (RedisLock: `fair: true`).
   * @throws {TypeError} For a client that is not supported, or an option of the wrong type.
   * @throws {RangeError} For an empty name or an out-of-range option.
   */
  constructor(
    client: unknown,
    name: string,
    options?: LockOptions,
    defaults?: Partial<LockOptions>,
  ) {
    this.#driver = resolveDriver(client);
    this.name = check.checkName(name);
    this.#settings = lockSettings(options, defaults);
    this.ttl = this.#settings.ttl;
    this.fair = this.#settings.fair;
    this.handoffTimeout = this.#settings.handoffTimeout;
    this.#keys = lockKeys(this.name);
    this.#ops = new LockOps(this.#driver, this.#keys, this.#settings);
  }

  /**
   * Waits for the lock, as one attempt, a blocking wait or until aborted.
   * @returns true when held; false when not free (`blocking: false`) or the timeout elapsed.
   * @throws {LockError} When this instance already holds or awaits the lock.
   */
  async acquire(options?: A): Promise<boolean> {
    const { blocking, timeout, signal } = acquireSettings(
      options,
      this._extraAcquireOptions,
      this.#settings.blockingTimeout,
    );
    if (this.#waiting || this.held) {
      throw new LockError(
        this.name,
        `This instance already ${
          this.#waiting ? "awaits" : "holds"
        } the lock; use another instance for another holder`,
      );
    }
    signal?.throwIfAborted();
    this.#waiting = true;
    try {
      const spec = {
        name: this.name,
        ops: this.#ops,
        driver: this.#driver,
        channel: this.#keys.channel,
        ...this.#settings,
        blocking,
        timeout,
        signal,
      };
      const wait = (request: WaitRequest) => this._wait(request, (options ?? {}) as A);
      return await acquisition(spec, wait, (token, result) => this.#hold(token, result));
    } finally {
      this.#waiting = false;
    }
  }

  /**
   * Waits like {@linkcode BaseLock.acquire}, but rejects when the timeout
   * elapses. The lock is `AsyncDisposable`: `await using` releases it.
   * @throws {LockTimeoutError} When the lock was not acquired in time.
   */
  async lock(options?: A): Promise<this> {
    if (await this.acquire(options)) return this;
    const { blocking, timeout } = acquireSettings(
      options,
      this._extraAcquireOptions,
      this.#settings.blockingTimeout,
    );
    throw new LockTimeoutError(this.name, blocking ? timeout : 0);
  }

  /**
   * Releases the lock: deletes it if this instance still owns it, and wakes
   * a waiter. On a Redis error the instance still counts as holding.
   * @throws {LockNotOwnedError} When this instance does not hold the lock.
   */
  async release(): Promise<void> {
    const held = this.#held;
    if (!held) throw new LockNotOwnedError(this.name, this.#notHeldReason());
    const released = await this.#ops.release(held.token);
    held.lease.end();
    if (this.#held === held) this.#held = undefined;
    // Nobody was queued: the lock is no longer contended, so a channel kept
    // subscribed for this instance's next wait (fair mode only) is dropped,
    // in the background: a release never waits on the subscriber connection.
    if (released !== "handed" && this.fair) {
      SubscriberManager.for(this.#driver).stopLingering(this.#keys.channel);
    }
    if (released === "not owned") {
      throw new LockNotOwnedError(
        this.name,
        "its lease ran out and the key is gone or held by another holder",
      );
    }
  }

  /**
   * Waits like {@linkcode BaseLock.lock}, runs `fn` with the lost-lock
   * signal, releases in `finally` and returns `fn`'s result.
   * @throws {LockLostError} When the lease was lost while `fn` ran, even if `fn` resolved.
   * @throws {LockTimeoutError} When the lock was not acquired in time.
   */
  async run<T>(fn: (signal: AbortSignal) => Promise<T> | T, options?: A): Promise<T> {
    if (typeof fn !== "function") {
      throw new TypeError(`fn must be a function, got ${showValue(fn)}`);
    }
    await this.lock(options);
    return await runHeld(this, fn);
  }

  /** Releases when held; does nothing when not (also after the lease ran out). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#held) return;
    try {
      await this.release();
    } catch (err) {
      if (!(err instanceof LockNotOwnedError)) throw err;
    }
  }

  /** Whether anyone holds the lock now. */
  async locked(): Promise<boolean> {
    return await this.#ops.locked();
  }

  /** Whether this instance holds the lock now, according to Redis. */
  async owned(): Promise<boolean> {
    return await this.remaining() > 0;
  }

  /** The lease left to this instance, in ms: 0 when not held, Infinity for a key without TTL. */
  async remaining(): Promise<number> {
    const held = this.#held;
    if (!held) return 0;
    const pttl = await this.#ops.ownedTtl(held.token);
    return pttl === -1 ? Infinity : Math.max(0, pttl);
  }

  /**
   * Sets the remaining lease to `ttl` ms; later renewals use that length.
   * @param ttl The new lease in ms. @default {the lock's ttl}
   * @throws {LockNotOwnedError} When this instance does not hold the lock.
   */
  async extend(ttl?: number): Promise<void> {
    const length = ttl === undefined ? this.ttl : check.checkTtl("ttl", ttl);
    const held = this.#held;
    if (!held || held.lease.lost) {
      throw new LockNotOwnedError(this.name, held ? "its lease was lost" : this.#notHeldReason());
    }
    const sentAt = now();
    held.lease.extending(sentAt, length);
    if (!(await this.#ops.extend(held.token, length))) {
      held.lease.lose("extend() found the key gone or held by another holder");
      throw new LockNotOwnedError(this.name, "the key is gone or held by another holder");
    }
    held.lease.renewed(sentAt, length);
  }

  /**
   * Aborts with a `LockLostError` when the current acquisition's lease is
   * lost. A fresh signal for each acquisition; a release does not abort it.
   */
  get signal(): AbortSignal {
    void this.held; // a lease past its local deadline aborts the signal now
    return this.#signal;
  }

  /** The fencing token of the latest acquisition; undefined without `fencing`. */
  get fencingToken(): number | undefined {
    return this.#fence;
  }

  /**
   * Whether this instance believes it holds the lock (no round trip). Also
   * false as soon as the lease's local deadline has passed, even before its
   * timer has run (a process resumed after a pause).
   */
  get held(): boolean {
    return this.#held !== undefined && !this.#held.lease.lost;
  }

  /**
   * How this kind of lock waits: attempt, sleep, attempt again, until the
   * lock is taken or `request.deadline` passes (with one last attempt then).
   * Rejects with `request.signal.reason` when aborted.
   */
  protected abstract _wait(request: WaitRequest, options: A): Promise<AttemptResult>;

  #notHeldReason(): string {
    return this.#waiting
      ? "it is still waiting for it"
      : "it was not acquired or was already released";
  }

  #hold(token: string, result: AttemptResult): void {
    const extend = (ttl: number) => this.#ops.extend(token, ttl);
    // A hand-off holds the key for `granted` ms until the first renewal.
    const first = result.granted ?? this.ttl;
    const owner = { name: this.name, extend };
    const lease = new Lease(owner, result.sentAt, this.ttl, this.#settings.autoExtend, first);
    this.#held = { token, lease };
    this.#signal = lease.signal;
    this.#fence = this.#settings.fencing ? result.value : undefined;
  }
}
