/**
 * The Redis side of one lock: each operation is one atomic script on the
 * lock's keys, compared on the owner's token. The lock classes keep the
 * state; this keeps the wire.
 *
 * @module
 */

import type { RedisDriver } from "./driver.ts";
import type { LockKeys } from "./_keys.ts";
import type { AttemptResult } from "../lock/options.ts";
import { now } from "../util/_runtime.ts";
import {
  ACQUIRE,
  EXTEND,
  FAIR_ACQUIRE,
  LOCKED,
  OWNED_TTL,
  QUEUE_SLACK_MS,
  RELEASE,
  type Script,
} from "./_scripts.ts";
import { runScript, toInt } from "./_script_runner.ts";
import { deliverLocal, LOCAL_MARK } from "../wait/_local_grants.ts";

/** What the operations need to know of the lock's settings. */
export interface OpsConfig {
  readonly ttl: number;
  readonly fencing: boolean;
  readonly fair: boolean;
  readonly handoffTimeout: number;
}

/** The scripts of one lock, bound to its driver, keys and settings. */
export class LockOps {
  readonly #driver: RedisDriver;
  readonly #keys: LockKeys;
  readonly #config: OpsConfig;

  /**
   * @param driver How to reach Redis.
   * @param keys The lock's keys.
   * @param config The lock's settings.
   */
  constructor(driver: RedisDriver, keys: LockKeys, config: OpsConfig) {
    this.#driver = driver;
    this.#keys = keys;
    this.#config = config;
  }

  /** One attempt; in fair mode with `join`, a failure queues the waiter. */
  async attempt(token: string, join: boolean): Promise<AttemptResult> {
    const { key, fence, queue, alive } = this.#keys;
    const { ttl, fencing, fair, handoffTimeout } = this.#config;
    const sentAt = now();
    const args = [token, `${ttl}`, fencing ? "1" : "0"];
    const reply = fair
      ? await this.#eval(FAIR_ACQUIRE, [key, fence, queue, alive], [
        ...args,
        `${handoffTimeout}`,
        join ? "1" : "0",
        `${QUEUE_SLACK_MS}`,
      ])
      : await this.#eval(ACQUIRE, [key, fence], args);
    if (!Array.isArray(reply)) throw new TypeError(`Unexpected Redis reply: ${String(reply)}`);
    const acquired = toInt(reply[0]) === 1;
    // A queued waiter's answer names its queue entry: a hand-off names it too.
    if (reply.length < 3) return { acquired, value: toInt(reply[1]), sentAt };
    return { acquired, value: toInt(reply[1]), sentAt, entry: Number(reply[2]) };
  }

  /**
   * Releases, or leaves the fair queue: "handed" when `token` owned the lock
   * and it went to a queued waiter, "freed" when it owned it and nobody was
   * queued, "not owned" otherwise.
   */
  async release(token: string): Promise<"handed" | "freed" | "not owned"> {
    const { key, fence, queue, alive, channel } = this.#keys;
    const publish = this.#driver.sharded ? "SPUBLISH" : "PUBLISH";
    const args = [token, channel, `${this.#config.handoffTimeout}`, publish, LOCAL_MARK];
    const reply = await this.#eval(RELEASE, [key, fence, queue, alive], args);
    if (!Array.isArray(reply)) {
      const n = toInt(reply);
      return n === 2 ? "handed" : n === 1 ? "freed" : "not owned";
    }
    // Handed to a waiter of this process: no message was published.
    deliverLocal(String(reply[1]), {
      fence: toInt(reply[2]),
      lease: toInt(reply[3]),
      entry: Number(reply[4]),
    });
    return "handed";
  }

  /** Sets the lease to `ttl` ms if `token` owns the lock; true when it did. */
  async extend(token: string, ttl: number): Promise<boolean> {
    return toInt(await this.#eval(EXTEND, [this.#keys.key], [token, `${ttl}`])) === 1;
  }

  /** The key's PTTL when `token` owns it (-1 without TTL), else -2. */
  async ownedTtl(token: string): Promise<number> {
    return toInt(await this.#eval(OWNED_TTL, [this.#keys.key], [token]));
  }

  /** Whether anyone holds the lock. */
  async locked(): Promise<boolean> {
    return toInt(await this.#eval(LOCKED, [this.#keys.key], [])) === 1;
  }

  #eval(script: Script, keys: string[], args: string[]): Promise<unknown> {
    return runScript(this.#driver, script, keys, args);
  }
}
