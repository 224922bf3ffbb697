/**
 * What every lock of this package shares: acquisition bookkeeping, release,
 * ownership checks, the lease, `run()` and `await using`. The public classes
 * are thin faces over it that choose how to wait (a {@linkcode WaitStrategy}).
 *
 * @module
 */

import type { RedisDriver } from "../redis/driver.ts";
import { toDriver } from "../redis/_drivers.ts";
import { lockKeys } from "../redis/_keys.ts";
import { type AttemptResult, type HolderOps, LockOps } from "../redis/_lock_ops.ts";
import type { WaitStrategy } from "../wait/_request.ts";
import { handOnLocal } from "../wait/_local_grants.ts";
import { now } from "../util/_runtime.ts";
import { showValue } from "../util/_format.ts";
import { LockError, LockNotOwnedError, LockTimeoutError } from "./errors.ts";
import { Lease } from "./_lease.ts";
import type { AcquireOptions, LockOptions } from "./options.ts";
import { runHeld } from "./_run.ts";
import { acquisition } from "./_acquisition.ts";
import * as check from "./_validate.ts";
import { acquireSettings, type LockSettings, lockSettings } from "./_settings.ts";

const NEVER = new AbortController().signal;

/**
 * What makes a primitive: the options it takes, and its Redis side. The lock
 * is one; a semaphore's permit or a read or write lock is another, on the
 * same core.
 */
export interface Primitive {
  /** The lock option names it accepts (default: all of `LockOptions`). */
  readonly optionKeys?: readonly string[];
  /** Its Redis side for one holder. */
  ops(driver: RedisDriver, name: string, settings: LockSettings): HolderOps;
}

/** `RedisLock`'s and `RedisSpinLock`'s primitive: one holder at a time. */
export const MUTEX: Primitive = {
  ops: (driver, name, settings) => new LockOps(driver, lockKeys(name, settings.prefix), settings),
};

interface Held {
  readonly token: string;
  readonly lease: Lease;
  /** When the hold began (`performance.now()` ms). */
  readonly since: number;
  /** Whether a renewal was sent: it may have recorded the hold's start (`LUA_WHO`). */
  renewed: boolean;
}

/** One holder of one lock; see the module doc. */
export class LockCore {
  readonly name: string;
  readonly settings: LockSettings;
  readonly #driver: RedisDriver;
  readonly #ops: HolderOps;
  #waiting = false;
  #held: Held | undefined;
  #lease: Lease | undefined; // the latest acquisition's: its signal is made when read
  #fence: number | undefined;

  /**
   * @param client A client an adapter recognises, or a driver.
   * @param name The lock's name.
   * @param options The lock's options.
   * @param defaults Defaults the public class sets (RedisLock: `fair: true`).
   * @param primitive What is held (default: a mutex).
   */
  constructor(
    client: unknown,
    name: string,
    options: LockOptions | undefined,
    defaults: Partial<LockOptions> = {},
    primitive: Primitive = MUTEX,
  ) {
    this.#driver = toDriver(client);
    this.name = check.checkName(name);
    this.settings = lockSettings(options, defaults, primitive.optionKeys);
    this.#ops = primitive.ops(this.#driver, this.name, this.settings);
  }

  /** `acquire()`; `extra` are acquire option names the public class reads itself. */
  async acquire(
    options: AcquireOptions | undefined,
    strategy: WaitStrategy,
    extra: readonly string[] = [],
  ): Promise<boolean> {
    const { blocking, timeout, signal } = acquireSettings(
      options,
      extra,
      this.settings.blockingTimeout,
    );
    if (this.#waiting || this.held) {
      const doing = this.#waiting ? "awaits" : "holds";
      throw new LockError(
        this.name,
        `This instance already ${doing} the lock; use another instance for another holder`,
      );
    }
    signal?.throwIfAborted();
    this.#waiting = true;
    try {
      const spec = {
        ...this.settings,
        name: this.name,
        ops: this.#ops,
        driver: this.#driver,
        channel: this.#ops.channel,
        grants: this.#ops.grants,
        racing: strategy.racing === true,
        blocking,
        timeout,
        signal,
      };
      const hold = (token: string, result: AttemptResult) => this.#hold(token, result);
      return await acquisition(spec, (request) => strategy.wait(request), hold);
    } finally {
      this.#waiting = false;
    }
  }

  /** `lock()`: like `acquire()`, but rejects with a `LockTimeoutError`. */
  async lock(
    options: AcquireOptions | undefined,
    strategy: WaitStrategy,
    extra: readonly string[] = [],
  ): Promise<void> {
    if (await this.acquire(options, strategy, extra)) return;
    const { blocking, timeout } = acquireSettings(options, extra, this.settings.blockingTimeout);
    throw new LockTimeoutError(this.name, blocking ? timeout : 0);
  }

  /** `release()`. */
  async release(): Promise<void> {
    const held = this.#held;
    if (!held) throw new LockNotOwnedError(this.name, this.#notHeldReason());
    // No renewal goes out behind the release: it could record the hold's
    // start after the release (which deletes it only if renewed) was sent.
    held.lease.pause();
    let outcome;
    try {
      // A hand-off to a waiter of this process was not published: deliver it.
      outcome = handOnLocal(await this.#ops.release(held.token, held.renewed));
    } catch (err) {
      held.lease.resume();
      throw err;
    }
    held.lease.end();
    if (this.#held === held) this.#held = undefined;
    if (outcome.result === "not owned") {
      throw new LockNotOwnedError(
        this.name,
        "its lease ran out and the key is gone or held by another holder",
      );
    }
  }

  /** `run()`: waits like `lock()`, runs `fn`, releases. */
  async run<T>(
    fn: (signal: AbortSignal) => Promise<T> | T,
    options: AcquireOptions | undefined,
    strategy: WaitStrategy,
    extra: readonly string[] = [],
  ): Promise<T> {
    if (typeof fn !== "function") {
      throw new TypeError(`fn must be a function, got ${showValue(fn)}`);
    }
    await this.lock(options, strategy, extra);
    return await runHeld(this, fn);
  }

  /** `[Symbol.asyncDispose]()`: releases when held. */
  async dispose(): Promise<void> {
    if (!this.#held) return;
    try {
      await this.release();
    } catch (err) {
      if (!(err instanceof LockNotOwnedError)) throw err;
    }
  }

  /** `locked()`. */
  async locked(): Promise<boolean> {
    return await this.#ops.locked();
  }

  /** `remaining()`. */
  async remaining(): Promise<number> {
    const held = this.#held;
    if (!held) return 0;
    const pttl = await this.#ops.ownedTtl(held.token);
    return pttl === -1 ? Infinity : Math.max(0, pttl);
  }

  /** `extend()`. */
  async extend(ttl?: number): Promise<void> {
    const length = ttl === undefined ? this.settings.ttl : check.checkTtl("ttl", ttl);
    const held = this.#held;
    if (!held || held.lease.lost) {
      throw new LockNotOwnedError(this.name, held ? "its lease was lost" : this.#notHeldReason());
    }
    const sentAt = now();
    held.lease.extending(sentAt, length);
    held.renewed = true;
    if (!(await this.#ops.extend(held.token, length, sentAt - held.since))) {
      held.lease.lose("extend() found the key gone or held by another holder");
      throw new LockNotOwnedError(this.name, "the key is gone or held by another holder");
    }
    held.lease.renewed(sentAt, length);
  }

  /** The current acquisition's lost-lock signal (aborted at once past the local deadline). */
  get signal(): AbortSignal {
    void this.held; // a lease past its local deadline aborts the signal now
    return this.#lease?.signal ?? NEVER;
  }

  /** The latest acquisition's fencing token. */
  get fencingToken(): number | undefined {
    return this.#fence;
  }

  /** Whether this holder believes it holds the lock (no round trip). */
  get held(): boolean {
    return this.#held !== undefined && !this.#held.lease.lost;
  }

  #notHeldReason(): string {
    return this.#waiting
      ? "it is still waiting for it"
      : "it was not acquired or was already released";
  }

  #hold(token: string, result: AttemptResult): void {
    const { ttl, autoExtend, fencing } = this.settings;
    // The hold began when the winning attempt was sent, or (a hand-off, whose
    // `sentAt` is the waiter's latest attempt) about now.
    const since = result.granted === undefined ? result.sentAt : now();
    const extend = (length: number) => {
      held.renewed = true;
      return this.#ops.extend(token, length, now() - since);
    };
    // A hand-off holds the key for `granted` ms until the first renewal.
    const first = result.granted ?? ttl;
    const lease = new Lease({ name: this.name, extend }, result.sentAt, ttl, autoExtend, first);
    const held: Held = { token, lease, since, renewed: false };
    this.#held = held;
    this.#lease = lease;
    this.#fence = fencing ? result.value : undefined;
  }
}
