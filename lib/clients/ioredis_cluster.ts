/**
 * Adapter for an ioredis `Cluster` (`npm:ioredis`, v5 and v6). You rarely
 * need it directly: `new RedisLock(cluster, name)` recognises a cluster and
 * uses this adapter.
 *
 * Scripts are sent with `cluster.call()`, which routes `EVALSHA` and `EVAL`
 * by their first key and follows `MOVED` and `ASK`. All keys and the channel
 * of a lock share one hash tag, so no script spans two slots. Wake-ups use
 * sharded Pub/Sub (`SSUBSCRIBE`; releases `SPUBLISH` on the slot's own shard)
 * when the cluster was created with `shardedSubscribers: true` and the
 * servers have it (Redis 7: asked once, with `COMMAND INFO SPUBLISH`), and
 * plain Pub/Sub otherwise.
 *
 * ioredis subscribes again when it rebuilds its sharded subscribers after a
 * topology change it noticed (a node that died, or a `MOVED` reply to a later
 * command). But at a `CLUSTER FAILOVER` Redis drops the sharded subscriptions
 * of the slots that moved at once, and ioredis only reports a "Command queue
 * state error" node error (checked on 5.9.2): until then, waiters would hear
 * of releases only at their next re-check. So after any node error, and
 * after ioredis rebuilt its subscribers, this adapter unsubscribes and
 * subscribes its channels again, waits for the confirmations, and tells
 * waiters to retry.
 *
 * A subscription that is not confirmed within two tries of 2 s is forgotten
 * (a confirmation that comes later is undone), and the lock asks for it again
 * while its waiters wait. One resync runs at a time (see `_cluster_pubsub.ts`,
 * shared by both cluster adapters).
 *
 * @module
 */

import type { RedisDriver, RedisSubscriber, SubscriberEvents } from "../redis/driver.ts";
import { hasMethods, isTransientError, scriptCommands } from "./_adapter.ts";
import { registerClientKind } from "../redis/_drivers.ts";
import { clusterSubscriber } from "./_cluster_pubsub.ts";

// The driver types, so that this entry point's documentation is complete on its own.
export type { RedisDriver, RedisSubscriber, SubscriberEvents } from "../redis/driver.ts";

/**
 * An ioredis event listener.
 *
 * @example
 * ```ts
 * import type { IoRedisClusterListener } from "@x/redis-lock/ioredis-cluster";
 *
 * const log: IoRedisClusterListener = (...args) => console.log(args);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type IoRedisClusterListener = (...args: any[]) => void;

/**
 * The part of an ioredis `Cluster` the adapter uses.
 *
 * @example Any ioredis cluster fits
 * ```ts
 * import type { IoRedisCluster } from "@x/redis-lock/ioredis-cluster";
 * import { Cluster } from "npm:ioredis@^5";
 *
 * const cluster: IoRedisCluster = new Cluster([{ host: "127.0.0.1", port: 7000 }], {
 *   shardedSubscribers: true,
 *   lazyConnect: true,
 * });
 * ```
 */
export interface IoRedisCluster {
  /** Sends a raw command, routed by its keys. */
  call(command: string, ...args: string[]): Promise<unknown>;
  /** Sharded-subscribes; resolves once confirmed. */
  ssubscribe(channel: string): Promise<unknown>;
  /** Sharded-unsubscribes; resolves once confirmed. */
  sunsubscribe(channel: string): Promise<unknown>;
  /** Subscribes (plain Pub/Sub); resolves once confirmed. */
  subscribe(channel: string): Promise<unknown>;
  /** Unsubscribes (plain Pub/Sub); resolves once confirmed. */
  unsubscribe(channel: string): Promise<unknown>;
  /** Adds an event listener. */
  on(event: string, listener: IoRedisClusterListener): unknown;
  /** Removes an event listener. */
  off(event: string, listener: IoRedisClusterListener): unknown;
  /** `true` on a `Cluster`. */
  readonly isCluster: boolean;
  /** The connection status; "end" once the cluster is closed. */
  readonly status?: string;
  /** The cluster's options; `shardedSubscribers` must be on for sharded Pub/Sub. */
  readonly options: { readonly shardedSubscribers?: boolean };
}

/**
 * Tells whether `client` looks like an ioredis `Cluster`.
 *
 * @example
 * ```ts
 * import { isIoRedisCluster } from "@x/redis-lock/ioredis-cluster";
 *
 * console.log(isIoRedisCluster({})); // false
 * ```
 */
export function isIoRedisCluster(client: unknown): client is IoRedisCluster {
  if (!hasMethods(client, ["call", "ssubscribe"])) return false;
  const c = client as { isCluster?: unknown; options?: unknown };
  return c.isCluster === true && typeof c.options === "object" && c.options !== null;
}

/**
 * A {@linkcode RedisDriver} over an ioredis `Cluster`. The subscriptions
 * live on the cluster's own subscriber connections, so they end when the
 * cluster is closed. Create the cluster with `shardedSubscribers: true` to
 * get sharded Pub/Sub.
 *
 * @example Passing a driver explicitly
 * ```ts
 * import { RedisLock } from "@x/redis-lock";
 * import { ioRedisClusterDriver } from "@x/redis-lock/ioredis-cluster";
 * import { Cluster } from "npm:ioredis@^5";
 *
 * const cluster = new Cluster([{ host: "127.0.0.1", port: 7000 }], { shardedSubscribers: true });
 * const lock = new RedisLock(ioRedisClusterDriver(cluster), "jobs:nightly");
 * ```
 */
export function ioRedisClusterDriver(cluster: IoRedisCluster): RedisDriver {
  // Redis 7 until asked: a script that runs before the answer (a release is
  // always preceded by an acquire, which waits for it) publishes as Redis 7 would.
  let sharded = cluster.options.shardedSubscribers === true;
  let detecting: Promise<boolean> | undefined;
  const detect = () =>
    detecting ??= hasShardedPubSub(cluster).then((yes) => sharded = yes, (err) => {
      detecting = undefined; // asked again next time
      throw err;
    });
  const run = async (args: string[]) => {
    await detect();
    return await cluster.call(args[0], ...args.slice(1));
  };
  return {
    ...scriptCommands(run),
    isTransient: (err) => isTransientError(err, cluster.status !== "end"),
    createSubscriber: async (events) => openSubscriber(cluster, await detect(), events),
    get sharded() {
      return sharded;
    },
  };
}

/** Whether sharded Pub/Sub is on and the servers know SPUBLISH (an error reply means no). */
async function hasShardedPubSub(cluster: IoRedisCluster): Promise<boolean> {
  if (cluster.options.shardedSubscribers !== true) return false;
  try {
    const reply = await cluster.call("COMMAND", "INFO", "SPUBLISH");
    return Array.isArray(reply) && reply[0] != null;
  } catch (err) {
    if (/^(ERR|NOPERM)\b/.test((err as Error)?.message ?? "")) return false;
    throw err;
  }
}

function openSubscriber(
  cluster: IoRedisCluster,
  sharded: boolean,
  events: SubscriberEvents,
): RedisSubscriber {
  const messages = sharded ? "smessage" : "message";
  const onMessage = (channel: unknown, message: unknown) =>
    events.message(`${channel}`, `${message}`);
  cluster.on(messages, onMessage);
  return clusterSubscriber({
    subscribe: (channel) => sharded ? cluster.ssubscribe(channel) : cluster.subscribe(channel),
    unsubscribe: (channel) =>
      sharded ? cluster.sunsubscribe(channel) : cluster.unsubscribe(channel),
    // ioredis sends nothing for a channel it still counts as subscribed.
    unsubscribeFirst: true,
    on: (event, fn) => cluster.on(event, fn),
    off: (event, fn) => cluster.off(event, fn),
    topologyEvents: ["nodeError", "subscribersReady", "-node"],
    closedEvent: "end", // the cluster was closed
    stop: () => cluster.off(messages, onMessage),
  }, events);
}

registerClientKind({
  name: "an ioredis cluster (new Cluster() from npm:ioredis)",
  order: 1,
  fits: isIoRedisCluster,
  adapt: ioRedisClusterDriver,
});
