/**
 * The Redis side of one semaphore holder: the lock's {@linkcode HolderOps}
 * over the semaphore's keys and scripts, so the shared core (attempts,
 * leases, fair wait and hand-off, subscriber manager) runs it unchanged.
 *
 * @module
 */

import { ScriptOps } from "./_script_ops.ts";
import type { AttemptResult, HolderOps, OpsConfig, ReleaseOutcome } from "./_lock_ops.ts";
import type { SemaphoreKeys } from "./_semaphore_keys.ts";
import { QUEUE_SLACK_MS, RACER_MARK_MS } from "./_scripts.ts";
import {
  SEM_ACQUIRE,
  SEM_EXTEND,
  SEM_HOLDERS,
  SEM_OWNED_TTL,
  SEM_RELEASE,
} from "./_semaphore_scripts.ts";
import { toInt } from "./_script_runner.ts";
import { attemptResult, handOffArgs, releaseOutcome } from "./_replies.ts";
import { now } from "../util/_runtime.ts";

/** What the semaphore's operations need to know of its settings. */
export interface SemaphoreConfig extends OpsConfig {
  /** How many holders at most (this caller's view; see `SEM_ACQUIRE`). */
  readonly limit: number;
}

/** The scripts of one semaphore, bound to its driver, keys and settings. */
export class SemaphoreOps extends ScriptOps<SemaphoreKeys, SemaphoreConfig> implements HolderOps {
  /** One attempt (see `SEM_ACQUIRE`); with `join`, a failure queues or marks. */
  async attempt(token: string, join: boolean): Promise<AttemptResult> {
    const { holders, queue, racers } = this.keys;
    const { ttl, limit, fair, handoffTimeout } = this.config;
    const sentAt = now();
    const reply = await this.eval(SEM_ACQUIRE, [holders, queue, racers], [
      token,
      `${ttl}`,
      `${limit}`,
      `${handoffTimeout}`,
      join ? "1" : "0",
      `${QUEUE_SLACK_MS}`,
      fair ? "1" : "0",
      join ? `${RACER_MARK_MS}` : "0",
    ]);
    return attemptResult(reply, sentAt);
  }

  /** Releases the permit (handing it on), or leaves the queue; see `SEM_RELEASE`. */
  async release(token: string, renewed = false): Promise<ReleaseOutcome> {
    const { holders, queue, racers, channel, who } = this.keys;
    const { handoffTimeout, limit } = this.config;
    const args = handOffArgs(this.driver, token, channel, handoffTimeout);
    args.push(`${limit}`, `${QUEUE_SLACK_MS}`);
    const keys = [holders, queue, racers];
    if (renewed) keys.push(who + token);
    return releaseOutcome(await this.eval(SEM_RELEASE, keys, args));
  }

  /** Sets the lease to `ttl` ms if `token` still holds a permit; true when it did. */
  async extend(token: string, ttl: number, held: number): Promise<boolean> {
    const args = [token, `${ttl}`, `${QUEUE_SLACK_MS}`, `${Math.round(held)}`];
    const keys = [this.keys.holders, this.keys.who + token];
    return toInt(await this.eval(SEM_EXTEND, keys, args)) === 1;
  }

  /** The lease left to `token` in ms, or -2 when it holds no permit. */
  async ownedTtl(token: string): Promise<number> {
    return toInt(await this.eval(SEM_OWNED_TTL, [this.keys.holders], [token]));
  }

  /** Whether no permit is free now. */
  async locked(): Promise<boolean> {
    return await this.holders() >= this.config.limit;
  }

  /** How many holders are live now. */
  async holders(): Promise<number> {
    return toInt(await this.eval(SEM_HOLDERS, [this.keys.holders], []));
  }
}
