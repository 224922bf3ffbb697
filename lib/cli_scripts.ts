/**
 * What only the `redis-lock` command needs from Redis: reading a lock's
 * state for `status` and the waiting status line, and deleting a stuck lock
 * for `release --force` (the scripts live with the others in `_scripts.ts`).
 *
 * @module
 */

import type { RedisDriver } from "./redis/driver.ts";
import { lockKeys } from "./redis/_keys.ts";
import { runScript, toInt } from "./redis/_script_runner.ts";
import { FORCE_RELEASE, STATUS } from "./redis/_scripts.ts";

/**
 * What `redis-lock status` reports about one lock.
 *
 * @example
 * ```ts
 * import type { LockStatus } from "./cli_scripts.ts";
 *
 * const status: LockStatus = {
 *   name: "job",
 *   key: "lock:{job}",
 *   held: true,
 *   remaining: 12_000,
 *   waiters: 1,
 *   fencingToken: null,
 * };
 * ```
 */
export interface LockStatus {
  /** The lock's name. */
  readonly name: string;
  /** The Redis key of the lock. */
  readonly key: string;
  /** Whether anyone holds the lock. */
  readonly held: boolean;
  /** The holder's lease left, in ms: 0 when free, `null` for a key without TTL. */
  readonly remaining: number | null;
  /**
   * Connections subscribed to the lock's channel: each process waiting with
   * `RedisLock` counts once, however many waiters it has; spin-lock waiters
   * do not count.
   */
  readonly waiters: number;
  /** The last fencing token handed out for this name, or `null` when none was. */
  readonly fencingToken: number | null;
}

/**
 * Reads the state of the lock called `name`, atomically.
 *
 * @param driver The driver to use (`resolveDriver(client)`).
 * @param name The lock's name.
 * @returns The lock's state.
 *
 * @example
 * ```ts
 * import { readStatus } from "./cli_scripts.ts";
 * import { resolveDriver } from "./clients/lock_client.ts";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient().connect();
 * const status = await readStatus(resolveDriver(client), "job");
 * console.log(status.held, status.remaining);
 * await client.close();
 * ```
 */
export async function readStatus(driver: RedisDriver, name: string): Promise<LockStatus> {
  const keys = lockKeys(name);
  const numsub = driver.sharded ? "SHARDNUMSUB" : "NUMSUB";
  const reply = await runScript(driver, STATUS, [keys.key, keys.fence], [keys.channel, numsub]);
  if (!Array.isArray(reply) || reply.length !== 3) {
    throw new TypeError(`Unexpected Redis reply: ${String(reply)}`);
  }
  const pttl = toInt(reply[0]);
  const fence = String(reply[2]);
  return {
    name,
    key: keys.key,
    held: pttl !== -2,
    remaining: pttl === -1 ? null : Math.max(0, pttl),
    waiters: toInt(reply[1]),
    fencingToken: fence === "" ? null : Number(fence),
  };
}

/**
 * Deletes the lock called `name` whoever holds it, and publishes on its
 * channel so that waiters try again at once.
 *
 * @param driver The driver to use (`resolveDriver(client)`).
 * @param name The lock's name.
 * @returns The lease the holder had left in ms (`Infinity` without TTL), or
 *   `undefined` when the lock was not held.
 *
 * @example
 * ```ts
 * import { forceRelease } from "./cli_scripts.ts";
 * import { resolveDriver } from "./clients/lock_client.ts";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient().connect();
 * const left = await forceRelease(resolveDriver(client), "job");
 * console.log(left === undefined ? "was free" : `deleted with ${left} ms left`);
 * await client.close();
 * ```
 */
export async function forceRelease(driver: RedisDriver, name: string): Promise<number | undefined> {
  const keys = lockKeys(name);
  const publish = driver.sharded ? "SPUBLISH" : "PUBLISH";
  const pttl = toInt(
    await runScript(driver, FORCE_RELEASE, [keys.key], [keys.channel, publish]),
  );
  return pttl === -2 ? undefined : pttl === -1 ? Infinity : pttl;
}
