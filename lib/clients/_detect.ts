/**
 * Picks the driver for whatever client a lock is given, and caches it per
 * client, so that all locks on one client share one subscriber connection.
 *
 * @module
 */

import type { RedisDriver } from "../redis/driver.ts";
import { showValue } from "../util/_format.ts";
import { type BunRedisClient, bunRedisDriver, isBunRedisClient } from "./bun_redis.ts";
import { type IoRedisClient, ioRedisDriver, isIoRedisClient } from "./ioredis.ts";
import { type IoRedisCluster, ioRedisClusterDriver, isIoRedisCluster } from "./ioredis_cluster.ts";
import { isNodeRedisClient, type NodeRedisClient, nodeRedisDriver } from "./node_redis.ts";
import {
  isNodeRedisCluster,
  type NodeRedisCluster,
  nodeRedisClusterDriver,
} from "./node_redis_cluster.ts";

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

// A cluster client also fits its library's single-node shape: clusters first.
const ADAPTERS = [
  [isNodeRedisCluster, nodeRedisClusterDriver],
  [isIoRedisCluster, ioRedisClusterDriver],
  [isNodeRedisClient, nodeRedisDriver],
  [isIoRedisClient, ioRedisDriver],
  [isBunRedisClient, bunRedisDriver],
] as Array<[(client: unknown) => boolean, (client: never) => RedisDriver]>;

const drivers = new WeakMap<object, RedisDriver>();

function isDriver(value: unknown): value is RedisDriver {
  const d = value as Partial<Record<keyof RedisDriver, unknown>> | null;
  return typeof d === "object" && d !== null && typeof d.evalsha === "function" &&
    typeof d.eval === "function" && typeof d.createSubscriber === "function";
}

/** The driver for `client`: itself when it is one, else its adapter's. */
export function resolveDriver(client: unknown): RedisDriver {
  if (isDriver(client)) return client;
  if (typeof client === "object" && client !== null) {
    const cached = drivers.get(client);
    if (cached) return cached;
    for (const [fits, adapt] of ADAPTERS) {
      if (!fits(client)) continue;
      const driver = adapt(client as never);
      drivers.set(client, driver);
      return driver;
    }
  }
  throw new TypeError(
    "client must be a node-redis client or cluster (createClient() or createCluster() from " +
      "npm:redis), an ioredis client or cluster (new Redis() or new Cluster() from npm:ioredis), " +
      'a Bun RedisClient (from "bun") or a RedisDriver, ' +
      `got ${showValue(client)}`,
  );
}
