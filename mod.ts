/**
 * Distributed mutual exclusion on Redis, for Deno, Bun and Node. Waiters of a
 * {@linkcode RedisLock} do not poll: they sleep on Redis Pub/Sub and the
 * holder's release wakes them; every wait is still bounded by the holder's
 * lease and the caller's deadline.
 *
 * @example Guard a job across processes and machines
 * ```ts
 * import { RedisLock } from "@x/redis-lock";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient({ url: "redis://127.0.0.1:6379" }).connect();
 * {
 *   await using _held = await new RedisLock(client, "jobs:nightly").lock();
 *   console.log("only one process runs this at a time");
 * }
 * await client.close();
 * ```
 *
 * @module
 */

export { BaseLock } from "./lib/lock/_lock_core.ts";
export { RECHECK_INTERVAL_MS, RedisLock } from "./lib/lock/redis_lock.ts";
export { RedisSpinLock, type SpinAcquireOptions } from "./lib/lock/spin_lock.ts";
export type {
  AcquireOptions,
  AttemptResult,
  LockOptions,
  WaitRequest,
} from "./lib/lock/options.ts";
export {
  LockError,
  LockLostError,
  LockNotOwnedError,
  LockTimeoutError,
  LockUnavailableError,
} from "./lib/lock/errors.ts";
export type { RedisDriver, RedisSubscriber, SubscriberEvents } from "./lib/redis/driver.ts";
export type { LockClient } from "./lib/clients/_detect.ts";
