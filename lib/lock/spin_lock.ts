/**
 * `RedisSpinLock`: the same lock, acquired by polling. Prefer `RedisLock`.
 *
 * @module
 */

import { BaseLock } from "./_lock_core.ts";
import type { LockClient } from "../clients/_detect.ts";
import type { AcquireOptions, AttemptResult, LockOptions, WaitRequest } from "./options.ts";
import { now } from "../util/_runtime.ts";
import { checkDuration } from "./_validate.ts";
import { Waiter } from "../wait/_waiter.ts";

/**
 * Options of one `RedisSpinLock` acquisition.
 *
 * @example Polling every 50 ms for at most 5 s
 * ```ts
 * import type { SpinAcquireOptions } from "@x/redis-lock";
 *
 * const options: SpinAcquireOptions = { sleepTime: 50, blockingTimeout: 5_000 };
 * ```
 */
export interface SpinAcquireOptions extends AcquireOptions {
  /**
   * Milliseconds between attempts (never past the deadline).
   * @default {100}
   */
  sleepTime?: number;
}

/**
 * A lock that waits by polling: attempt, sleep `sleepTime`, attempt again.
 * It excludes `RedisLock` holders of the same name and needs no Pub/Sub, but
 * it wakes late and costs a round trip per attempt: prefer `RedisLock`, and
 * keep this one for special cases (a Redis proxy without Pub/Sub, for one).
 *
 * @example Acquire by polling
 * ```ts
 * import { RedisSpinLock } from "@x/redis-lock";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient().connect();
 * const spin = new RedisSpinLock(client, "foo");
 * if (!(await spin.acquire({ blocking: true, sleepTime: 100 }))) {
 *   throw new Error("Fail to acquire lock");
 * }
 * await spin.release();
 * await client.close();
 * ```
 */
export class RedisSpinLock extends BaseLock<SpinAcquireOptions> {
  /** Adds `sleepTime` to the acquire options. */
  protected override readonly _extraAcquireOptions: readonly string[] = ["sleepTime"];

  /**
   * Creates a lock handle; nothing is sent to Redis until it is used.
   * @param client A node-redis, ioredis or Bun client (or cluster client), or a {@linkcode RedisDriver}.
   * @param name The lock's name: any non-empty string.
   * @param options See {@linkcode LockOptions}.
   */
  constructor(client: LockClient, name: string, options?: LockOptions) {
    super(client, name, options);
  }

  /** Attempts every `sleepTime` ms until taken or the deadline (one last attempt then). */
  protected async _wait(
    request: WaitRequest,
    options: SpinAcquireOptions,
  ): Promise<AttemptResult> {
    const sleepTime = options.sleepTime === undefined
      ? 100
      : checkDuration("options.sleepTime", options.sleepTime, false);
    // A fair spin waiter polls at least every third of the shorter of the
    // hand-off timeout and the ttl, whatever sleepTime says: each attempt
    // refreshes its place in the queue, and takes up a hand-off to it.
    const poll = this.fair ? Math.min(sleepTime, this.handoffTimeout / 3, this.ttl / 3) : sleepTime;
    const pause = new Waiter();
    for (;;) {
      const result = await request.attempt();
      const left = request.deadline - now();
      if (result.acquired || left <= 0) return result;
      await pause.sleep(Math.min(poll, left), request.signal);
    }
  }
}
