/**
 * Adapter for a node-redis cluster client (`createCluster()` from `npm:redis`,
 * v5 and v6). You rarely need it directly: `new RedisLock(cluster, name)`
 * recognises a cluster client and uses this adapter.
 *
 * Scripts go to the master that owns their first key's slot, and node-redis
 * follows `MOVED` and `ASK` by itself. All keys and the channel of a lock
 * share one hash tag, so no script spans two slots. Wake-ups use sharded
 * Pub/Sub (`SSUBSCRIBE`; releases `SPUBLISH` on the slot's own shard) when
 * the servers have it (Redis 7: asked once, with `COMMAND INFO SPUBLISH`),
 * and plain Pub/Sub otherwise.
 *
 * node-redis v6 moves a sharded subscription to the slot's new master by
 * itself (at once after a `CLUSTER FAILOVER`; after a master died, at its
 * topology refresh, by default 5 s into reconnecting) but does not say when;
 * node-redis v5 loses it when Redis unsubscribes at a failover (checked on
 * 5.9.0 and 6.3.1). So whenever one of its node connections becomes ready,
 * this adapter subscribes its channels again (a no-op where node-redis still
 * has them), and tells waiters to retry: a wake-up may have been lost.
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
 * A node-redis Pub/Sub listener (strings, or buffers in buffer mode).
 *
 * @example
 * ```ts
 * import type { NodeRedisClusterListener } from "@x/redis-lock/node-redis-cluster";
 *
 * const log: NodeRedisClusterListener = (message, channel) => console.log(channel, message);
 * ```
 */
export type NodeRedisClusterListener = (
  message: string | Uint8Array,
  channel: string | Uint8Array,
) => void;

/**
 * The part of a node-redis cluster client (`createCluster()`) the adapter uses.
 *
 * @example Any node-redis cluster client fits
 * ```ts
 * import type { NodeRedisCluster } from "@x/redis-lock/node-redis-cluster";
 * import { createCluster } from "npm:redis@^6";
 *
 * const cluster: NodeRedisCluster = createCluster({ rootNodes: [{ url: "redis://127.0.0.1:7000" }] });
 * ```
 */
export interface NodeRedisCluster {
  /** Sends a raw command to the node that owns `firstKey` (any node without one). */
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
  ): Promise<unknown>;
  /** Sharded-subscribes `listener` to `channel`; resolves once confirmed. */
  sSubscribe(channel: string, listener: NodeRedisClusterListener): Promise<unknown>;
  /** Removes `listener` from the sharded `channel`. */
  sUnsubscribe(channel: string, listener?: NodeRedisClusterListener): Promise<unknown>;
  /** Subscribes `listener` to `channel` (plain Pub/Sub); resolves once confirmed. */
  subscribe(channel: string, listener: NodeRedisClusterListener): Promise<unknown>;
  /** Removes `listener` from `channel` (plain Pub/Sub). */
  unsubscribe(channel: string, listener?: NodeRedisClusterListener): Promise<unknown>;
  /** Adds an event listener. */
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Removes an event listener. */
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  /** The masters it knows (only an array matters: it tells a cluster from a client). */
  readonly masters: readonly unknown[];
  /** Whether the cluster client is open (false once closed). */
  readonly isOpen?: boolean;
}

/**
 * Tells whether `client` looks like a node-redis cluster client.
 *
 * @example
 * ```ts
 * import { isNodeRedisCluster } from "@x/redis-lock/node-redis-cluster";
 *
 * console.log(isNodeRedisCluster({})); // false
 * ```
 */
export function isNodeRedisCluster(client: unknown): client is NodeRedisCluster {
  return hasMethods(client, ["sendCommand", "sSubscribe", "sUnsubscribe", "on"]) &&
    Array.isArray((client as { masters?: unknown }).masters);
}

/**
 * A {@linkcode RedisDriver} over a connected node-redis cluster client. The
 * subscriptions live on the cluster client's own Pub/Sub connections, so
 * they end when the cluster client is closed.
 *
 * @example Passing a driver explicitly
 * ```ts
 * import { RedisLock } from "@x/redis-lock";
 * import { nodeRedisClusterDriver } from "@x/redis-lock/node-redis-cluster";
 * import { createCluster } from "npm:redis@^6";
 *
 * const cluster = await createCluster({ rootNodes: [{ url: "redis://127.0.0.1:7000" }] }).connect();
 * const lock = new RedisLock(nodeRedisClusterDriver(cluster), "jobs:nightly");
 * ```
 */
export function nodeRedisClusterDriver(cluster: NodeRedisCluster): RedisDriver {
  // Redis 7 until asked: a script that runs before the answer (a release is
  // always preceded by an acquire, which waits for it) publishes as Redis 7 would.
  let sharded = true;
  let detecting: Promise<boolean> | undefined;
  const detect = () =>
    detecting ??= hasShardedPubSub(cluster).then((yes) => sharded = yes, (err) => {
      detecting = undefined; // asked again next time
      throw err;
    });
  const run = async (key: string, args: string[]) => {
    await detect();
    return await cluster.sendCommand(key, false, args);
  };
  return {
    // Every script's first key is at args[3] (after command, body, numkeys).
    ...scriptCommands((args) => run(args[3], args)),
    isTransient: (err) => isTransientError(err, cluster.isOpen !== false),
    createSubscriber: async (events) => openSubscriber(cluster, await detect(), events),
    get sharded() {
      return sharded;
    },
  };
}

/** Whether the servers know SPUBLISH; an error reply (say, an ACL refusal) means no. */
async function hasShardedPubSub(cluster: NodeRedisCluster): Promise<boolean> {
  try {
    const reply = await cluster.sendCommand(undefined, true, ["COMMAND", "INFO", "SPUBLISH"]);
    return Array.isArray(reply) && reply[0] != null;
  } catch (err) {
    if (/^(ERR|NOPERM)\b/.test((err as Error)?.message ?? "")) return false;
    throw err;
  }
}

function openSubscriber(
  cluster: NodeRedisCluster,
  sharded: boolean,
  events: SubscriberEvents,
): RedisSubscriber {
  const listener: NodeRedisClusterListener = (message, channel) =>
    events.message(String(channel), String(message));
  return clusterSubscriber({
    subscribe: (channel) =>
      sharded ? cluster.sSubscribe(channel, listener) : cluster.subscribe(channel, listener),
    unsubscribe: (channel) =>
      sharded ? cluster.sUnsubscribe(channel, listener) : cluster.unsubscribe(channel, listener),
    // Subscribing again is a no-op where node-redis still has the channel,
    // and restores it where it was dropped.
    unsubscribeFirst: false,
    on: (event, fn) => cluster.on(event, fn),
    off: (event, fn) => cluster.off(event, fn),
    // A node connection became ready: a new master, or a node back. node-redis
    // v6 has moved the subscriptions of a lost or demoted master by then; v5
    // drops them when Redis unsubscribes at a failover.
    topologyEvents: ["node-ready"],
    closedEvent: "disconnect", // the cluster client was closed
  }, events);
}

registerClientKind({
  name: "a node-redis cluster (createCluster() from npm:redis)",
  order: 1,
  fits: isNodeRedisCluster,
  adapt: nodeRedisClusterDriver,
});
