/**
 * Every client a lock accepts, as one type, and the module that loads all
 * their adapters (each registers how to recognise its client on load), so
 * that `new RedisLock(client, name)` takes any of them.
 *
 * @module
 */

import type { RedisDriver } from "../redis/driver.ts";
import type { BunRedisClient } from "./bun_redis.ts";
import type { IoRedisClient } from "./ioredis.ts";
import type { IoRedisCluster } from "./ioredis_cluster.ts";
import type { NodeRedisClient } from "./node_redis.ts";
import type { NodeRedisCluster } from "./node_redis_cluster.ts";
import "./node_redis_cluster.ts";
import "./ioredis_cluster.ts";
import "./node_redis.ts";
import "./ioredis.ts";
import "./bun_redis.ts";

export { toDriver as resolveDriver } from "../redis/_drivers.ts";

/**
 * What a lock accepts as its client: a node-redis client or cluster, an
 * ioredis client or cluster, a Bun client, or a driver.
 *
 * @example
 * ```ts
 * import type { LockClient } from "@x/redis-lock";
 * import { createClient } from "npm:redis@^6";
 *
 * const client: LockClient = createClient();
 * ```
 */
export type LockClient =
  | NodeRedisClient
  | NodeRedisCluster
  | IoRedisClient
  | IoRedisCluster
  | BunRedisClient
  | RedisDriver;
