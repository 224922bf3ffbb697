/**
 * The Redis side of one lock: each operation is one atomic script on the
 * lock's keys, compared on the owner's token. The lock classes keep the
 * state; this keeps the wire.
 *
 * @module
 */

import { ScriptOps } from "./_script_ops.ts";
import type { LockKeys } from "./_keys.ts";
import { now } from "../util/_runtime.ts";
import {
  ACQUIRE,
  EXTEND,
  FAIR_ACQUIRE,
  LOCKED,
  OWNED_TTL,
  QUEUE_SLACK_MS,
  RACER_MARK_MS,
  RELEASE,
} from "./_scripts.ts";
import { toInt } from "./_script_runner.ts";
import { attemptResult, handOffArgs, releaseOutcome } from "./_replies.ts";

/** The outcome of one acquisition attempt. */
export interface AttemptResult {
  /** Whether the attempt took the lock. */
  readonly acquired: boolean;
  /**
   * When acquired: the fencing token (0 without fencing). Otherwise: the
   * holder's remaining lease in ms (-1 when the key has no TTL, -2 when it
   * is free but promised to an earlier fair waiter).
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

/** A fair hand-off the release script made to a waiter of this process (not published). */
export interface LocalHandOff {
  /** The waiter's token. */
  readonly token: string;
  /** The fencing token taken for it (0 without fencing). */
  readonly fence: number;
  /** How long the hand-off holds the key, in ms. */
  readonly lease: number;
  /** The id of the queue entry it served. */
  readonly entry: number;
}

/**
 * What a release did: handed the lock on (to a waiter of this process:
 * `local` says which), freed it, or found it not owned by the token.
 */
export type ReleaseOutcome =
  | { readonly result: "handed"; readonly local?: LocalHandOff }
  | { readonly result: "freed" | "not owned" };

/** What the operations need to know of the lock's settings. */
export interface OpsConfig {
  readonly ttl: number;
  readonly fencing: boolean;
  readonly fair: boolean;
  readonly handoffTimeout: number;
}

/**
 * The Redis side of one holder of a primitive (a lock, a semaphore's
 * permit, a read or write lock): what the shared core and the waits need.
 * Each primitive implements it with its own scripts on its own keys; the
 * attempts, leases, waits and hand-off messages are the lock's.
 */
export interface HolderOps {
  /** The channel on which releases are announced to race-mode waiters. */
  readonly channel: string;
  /** This process's hand-off channel (`<channel>:<mark>`). */
  readonly grants: string;
  /** One attempt; see {@linkcode LockOps.attempt}. */
  attempt(token: string, join: boolean): Promise<AttemptResult>;
  /**
   * Release by token, or leave the queue; see {@linkcode LockOps.release}.
   * `renewed`: the holder renewed, so it has a record (`LUA_WHO`) to delete.
   */
  release(token: string, renewed?: boolean): Promise<ReleaseOutcome>;
  /**
   * Sets the lease to `ttl` ms if `token` holds; true when it did. `held`:
   * how long it has held, in ms (recorded at the first renewal).
   */
  extend(token: string, ttl: number, held: number): Promise<boolean>;
  /** The lease left to `token` (-1 without TTL), else -2. */
  ownedTtl(token: string): Promise<number>;
  /** Whether it cannot be taken now (the lock is held, no permit is free). */
  locked(): Promise<boolean>;
}

/** The scripts of one lock, bound to its driver, keys and settings. */
export class LockOps extends ScriptOps<LockKeys, OpsConfig> implements HolderOps {
  /**
   * One attempt. With `join`, a failure queues the waiter (fair mode) or
   * marks the lock as raced, so that a release announces itself (race mode).
   */
  async attempt(token: string, join: boolean): Promise<AttemptResult> {
    const { key, fence, queue, racers } = this.keys;
    const { ttl, fencing, fair, handoffTimeout } = this.config;
    const sentAt = now();
    const fenced = fencing ? "1" : "0";
    const reply = fair
      ? await this.eval(FAIR_ACQUIRE, [key, fence, queue], [
        token,
        `${ttl}`,
        fenced,
        `${handoffTimeout}`,
        join ? "1" : "0",
        `${QUEUE_SLACK_MS}`,
      ])
      : await this.eval(ACQUIRE, [key, fence, racers], [
        token,
        `${ttl}`,
        fenced,
        join ? `${RACER_MARK_MS}` : "0",
      ]);
    return attemptResult(reply, sentAt);
  }

  /**
   * Releases, or leaves the fair queue: "handed" when `token` owned the lock
   * and it went to a queued waiter, "freed" when it owned it and nobody was
   * queued, "not owned" otherwise.
   */
  async release(token: string, renewed = false): Promise<ReleaseOutcome> {
    const { key, fence, queue, racers, channel, who } = this.keys;
    const args = handOffArgs(this.driver, token, channel, this.config.handoffTimeout);
    const keys = [key, fence, queue, racers];
    if (renewed) keys.push(who + token);
    return releaseOutcome(await this.eval(RELEASE, keys, args));
  }

  /** Sets the lease to `ttl` ms if `token` owns the lock; true when it did. */
  async extend(token: string, ttl: number, held: number): Promise<boolean> {
    const keys = [this.keys.key, this.keys.who + token];
    return toInt(await this.eval(EXTEND, keys, [token, `${ttl}`, `${Math.round(held)}`])) === 1;
  }

  /** The key's PTTL when `token` owns it (-1 without TTL), else -2. */
  async ownedTtl(token: string): Promise<number> {
    return toInt(await this.eval(OWNED_TTL, [this.keys.key], [token]));
  }

  /** Whether anyone holds the lock. */
  async locked(): Promise<boolean> {
    return toInt(await this.eval(LOCKED, [this.keys.key], [])) === 1;
  }
}
