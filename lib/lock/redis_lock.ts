/**
 * `RedisLock`: a distributed lock whose waiters sleep on Redis Pub/Sub and
 * are woken by the holder's release, instead of polling.
 *
 * @module
 */

import { BaseLock } from "./_lock_core.ts";
import type { LockClient } from "../clients/_detect.ts";
import type { AcquireOptions, AttemptResult, LockOptions, WaitRequest } from "./options.ts";
import { waitFair } from "../wait/_fair_wait.ts";
import { waitOnPubSub } from "../wait/_pubsub_wait.ts";

export { RECHECK_INTERVAL_MS } from "../wait/_pubsub_wait.ts";

/**
 * A distributed mutual-exclusion lock on Redis. Waiters subscribe to the
 * lock's channel and sleep until the holder's release wakes them (or the
 * holder's lease runs out), so waiting costs no polling. One instance is one
 * holder; use a second instance for a second holder.
 *
 * @example Acquire and release
 * ```ts
 * import { RedisLock } from "@x/redis-lock";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient({ url: "redis://127.0.0.1:6379" }).connect();
 * const lock = new RedisLock(client, "foo");
 * if (!(await lock.acquire())) throw new Error("Fail to acquire lock");
 * console.log("Acquired lock successfully!");
 * await lock.release();
 * await client.close();
 * ```
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
 */
export class RedisLock extends BaseLock {
  /**
   * Creates a lock handle; nothing is sent to Redis until it is used.
   * @param client A node-redis, ioredis or Bun client (or cluster client), or a {@linkcode RedisDriver}.
   * @param name The lock's name: any non-empty string.
   * @param options See {@linkcode LockOptions}.
   */
  constructor(client: LockClient, name: string, options?: LockOptions) {
    super(client, name, options, { fair: true });
  }

  /** Attempts; subscribes; attempts again; sleeps until woken, expiry or the deadline. */
  protected _wait(request: WaitRequest, _options: AcquireOptions): Promise<AttemptResult> {
    // Fair waiters refresh their place (and last miss) every third of the
    // shorter of handoffTimeout and ttl: a hand-off's lease is timed from it.
    const refresh = Math.min(this.handoffTimeout, this.ttl);
    return this.fair ? waitFair(request, refresh) : waitOnPubSub(request);
  }
}
