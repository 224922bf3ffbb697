/**
 * Picks the driver for whatever client a lock is given, and caches it per
 * client, so that all locks on one client share one subscriber connection.
 *
 * @module
 */

import type { RedisDriver } from "./driver.ts";
import { showValue } from "./_format.ts";
import { isNodeRedisClient, type NodeRedisClient, nodeRedisDriver } from "./node_redis.ts";

/**
 * What a lock accepts as its client: a node-redis client or a driver.
 *
 * @example
 * ```ts
 * import type { LockClient } from "@x/redis-lock";
 * import { createClient } from "npm:redis@^6";
 *
 * const client: LockClient = createClient();
 * ```
 */
export type LockClient = NodeRedisClient | RedisDriver;

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
    if (isNodeRedisClient(client)) {
      const driver = nodeRedisDriver(client);
      drivers.set(client, driver);
      return driver;
    }
  }
  throw new TypeError(
    `client must be a node-redis client (createClient() from npm:redis) or a RedisDriver, ` +
      `got ${showValue(client)}`,
  );
}
