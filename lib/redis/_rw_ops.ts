/**
 * The Redis side of one holder of a read-write lock, a reader or a writer:
 * the shared core's {@linkcode HolderOps} over the read-write lock's
 * scripts (`_rw_scripts.ts`). Always queued (fair): there is no race mode.
 *
 * @module
 */

import type { RedisDriver } from "./driver.ts";
import type { AttemptResult, HolderOps, ReleaseOutcome } from "./_lock_ops.ts";
import type { ReadWriteKeys } from "./_rw_keys.ts";
import { RW_ACQUIRE, RW_EXTEND, RW_LOCKED, RW_OWNED_TTL, RW_RELEASE } from "./_rw_scripts.ts";
import type { Script } from "./_scripts.ts";
import { toInt } from "./_script_runner.ts";
import { ScriptOps } from "./_script_ops.ts";
import { attemptResult, handOffArgs, releaseOutcome } from "./_replies.ts";
import { now } from "../util/_runtime.ts";

/** A reader ("r") or a writer ("w"). */
export type ReadWriteMode = "r" | "w";

/** What the operations need to know of the lock's settings. */
export interface ReadWriteConfig {
  readonly ttl: number;
  readonly fencing: boolean;
  readonly handoffTimeout: number;
}

/** See the module doc. */
export class ReadWriteOps extends ScriptOps<ReadWriteKeys, ReadWriteConfig> implements HolderOps {
  readonly #mode: ReadWriteMode;

  /**
   * @param driver How to reach Redis.
   * @param keys The lock's keys.
   * @param config The lock's settings.
   * @param mode Which side this holder is on.
   */
  constructor(
    driver: RedisDriver,
    keys: ReadWriteKeys,
    config: ReadWriteConfig,
    mode: ReadWriteMode,
  ) {
    super(driver, keys, config);
    this.#mode = mode;
  }

  /** One attempt; with `join`, a failure queues the waiter in its mode. */
  async attempt(token: string, join: boolean): Promise<AttemptResult> {
    const { ttl, fencing } = this.config;
    const sentAt = now();
    const reply = await this.#run(RW_ACQUIRE, token, [
      `${ttl}`,
      fencing ? "1" : "0",
      join ? "1" : "0",
    ]);
    return attemptResult(reply, sentAt);
  }

  /** Releases (or leaves the queue), handing the lock on from the queue's head. */
  async release(token: string, renewed = false): Promise<ReleaseOutcome> {
    return releaseOutcome(await this.#run(RW_RELEASE, token, [], renewed));
  }

  /** Sets the lease to `ttl` ms if `token` holds; true when it did. */
  async extend(token: string, ttl: number, held: number): Promise<boolean> {
    const args = [`${ttl}`, `${Math.round(held)}`];
    return toInt(await this.#run(RW_EXTEND, token, args, true)) === 1;
  }

  /** The lease left to `token` (-1 without TTL), else -2. */
  async ownedTtl(token: string): Promise<number> {
    return toInt(await this.#run(RW_OWNED_TTL, token, []));
  }

  /** Whether this side could not enter now. */
  async locked(): Promise<boolean> {
    return toInt(await this.#run(RW_LOCKED, "", [])) === 1;
  }

  /**
   * Runs `script` for `token` (the scripts' common KEYS and ARGV first; with
   * `record`, the token's record as the last KEY).
   */
  #run(script: Script, token: string, extra: string[], record = false): Promise<unknown> {
    const { writer, readers, fence, queue, who, channel } = this.keys;
    const args = handOffArgs(this.driver, token, channel, this.config.handoffTimeout);
    args.push(this.#mode, ...extra);
    const keys = [writer, readers, fence, queue];
    if (record) keys.push(who + token);
    return this.eval(script, keys, args);
  }
}
