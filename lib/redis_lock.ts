/**
 * `RedisLock`: a distributed lock whose waiters sleep on Redis Pub/Sub and
 * are woken by the holder's release, instead of polling.
 *
 * @module
 */

import { BaseLock } from "./base_lock.ts";
import type { LockClient } from "./_resolve.ts";
import type { AcquireOptions, AttemptResult, LockOptions, WaitRequest } from "./options.ts";
import { SubscriberManager } from "./subscriber_manager.ts";
import { now } from "./_runtime.ts";
import { Waiter } from "./_waiter.ts";
import { waitFair } from "./_fair_wait.ts";

/**
 * The longest a Pub/Sub waiter sleeps without checking the lock again: a
 * bound for a wake-up lost while the subscriber reconnects, or for a key
 * without TTL. Expiry is found sooner: the sleep is bounded by the holder's
 * remaining lease.
 */
export const RECHECK_INTERVAL_MS = 2_000;

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

async function waitOnPubSub(request: WaitRequest): Promise<AttemptResult> {
  const { attempt, deadline, signal, channel } = request;
  let result = await attempt();
  if (result.acquired || now() >= deadline) return result;
  const manager = SubscriberManager.for(request.driver);
  const waiter = new Waiter();
  try {
    // Subscribed (and confirmed) before the next attempt: a release between
    // the failed attempt and the subscription cannot be missed.
    const subscribed = manager.join(channel, waiter);
    await waiter.until(subscribed, deadline - now(), signal);
    for (;;) {
      result = await attempt();
      const left = deadline - now();
      if (result.acquired || left <= 0) return result;
      await waiter.sleep(manager.isHead(channel, waiter) ? headSleep(result, left) : left, signal);
    }
  } finally {
    // A waiter that gives up returns only once nothing is left subscribed; one
    // that took the lock does not make its caller wait for the UNSUBSCRIBE.
    const left = manager.leave(channel, waiter);
    if (!result.acquired) await request.settle(left);
  }
}

/** The head waiter sleeps until the holder's lease ends, the re-check, or the deadline. */
function headSleep(result: AttemptResult, left: number): number {
  const lease = result.value >= 0 ? Math.max(1, result.value) : RECHECK_INTERVAL_MS;
  return Math.min(lease, RECHECK_INTERVAL_MS, left);
}
