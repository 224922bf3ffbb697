/**
 * Distributed mutual exclusion on Redis, for Deno, Bun and Node. Waiters of a
 * {@linkcode RedisLock} do not poll: they queue in Redis and sleep on
 * Pub/Sub, and the holder's release hands the lock to the oldest of them;
 * every wait is still bounded by the holder's lease and the caller's
 * deadline.
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

// Loads every client adapter: each registers how to recognise its client, so
// the locks accept any of them (the lock core itself imports none).
import "./lib/clients/lock_client.ts";

export { RedisLock } from "./lib/lock/redis_lock.ts";
export { RedisSpinLock } from "./lib/lock/spin_lock.ts";
export { RedisSemaphore } from "./lib/lock/redis_semaphore.ts";
export { RedisReadWriteLock } from "./lib/lock/redis_read_write_lock.ts";
export { RedisReadWriteHolder } from "./lib/lock/read_write_holder.ts";
export type {
  AcquireOptions,
  LockOptions,
  ReadWriteLockOptions,
  SemaphoreOptions,
  SpinAcquireOptions,
} from "./lib/lock/options.ts";
export type { RecordOptions } from "./lib/lock/record_options.ts";
export type {
  HolderIdentity,
  InspectOptions,
  LockHolderInfo,
  LockInspection,
  LockWaiterInfo,
} from "./lib/redis/inspection.ts";
export {
  LockError,
  LockLostError,
  LockNotOwnedError,
  LockTimeoutError,
  LockUnavailableError,
} from "./lib/lock/errors.ts";
export type { RedisDriver, RedisSubscriber, SubscriberEvents } from "./lib/redis/driver.ts";
export type { LockClient } from "./lib/clients/lock_client.ts";
// The client shapes `LockClient` names, so that its documentation is complete.
export type { NodeRedisClient, NodeRedisListener } from "./lib/clients/node_redis.ts";
export type {
  NodeRedisCluster,
  NodeRedisClusterListener,
} from "./lib/clients/node_redis_cluster.ts";
export type { IoRedisClient, IoRedisListener } from "./lib/clients/ioredis.ts";
export type { IoRedisCluster, IoRedisClusterListener } from "./lib/clients/ioredis_cluster.ts";
export type { BunRedisClient, BunRedisListener } from "./lib/clients/bun_redis.ts";
