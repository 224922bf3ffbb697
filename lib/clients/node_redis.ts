/**
 * Adapter for node-redis (`npm:redis`, v5 and v6, RESP2 and RESP3). You rarely
 * need it directly: `new RedisLock(client, name)` recognises a node-redis
 * client and uses this adapter.
 *
 * @module
 */

import type { RedisDriver, RedisSubscriber, SubscriberEvents } from "../redis/driver.ts";
import { hasMethods, isTransientError, scriptCommands } from "./_adapter.ts";
import { registerClientKind } from "../redis/_drivers.ts";

// The driver types, so that this entry point's documentation is complete on its own.
export type { RedisDriver, RedisSubscriber, SubscriberEvents } from "../redis/driver.ts";

/**
 * A node-redis Pub/Sub listener.
 *
 * @example
 * ```ts
 * import type { NodeRedisListener } from "@x/redis-lock/node-redis";
 *
 * const log: NodeRedisListener = (message, channel) => console.log(channel, message);
 * ```
 */
export type NodeRedisListener = (message: string, channel: string) => void;

/**
 * The part of a node-redis client (`createClient()`) the adapter uses.
 *
 * @example Any node-redis client fits
 * ```ts
 * import type { NodeRedisClient } from "@x/redis-lock/node-redis";
 * import { createClient } from "npm:redis@^6";
 *
 * const client: NodeRedisClient = createClient();
 * ```
 */
export interface NodeRedisClient {
  /** Sends a raw command. */
  sendCommand(args: string[]): Promise<unknown>;
  /** A new, unconnected client with the same options. */
  duplicate(): NodeRedisClient;
  /** Connects. */
  connect(): Promise<unknown>;
  /** Subscribes `listener` to `channel`; resolves once confirmed. */
  subscribe(channel: string, listener: NodeRedisListener): Promise<unknown>;
  /** Removes `listener` from `channel`; resolves once confirmed. */
  unsubscribe(channel: string, listener?: NodeRedisListener): Promise<unknown>;
  /** Adds an event listener. */
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Removes an event listener. */
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Whether the client is connected (or connecting). */
  readonly isOpen: boolean;
}

/**
 * Tells whether `client` looks like a node-redis client.
 *
 * @example
 * ```ts
 * import { isNodeRedisClient } from "@x/redis-lock/node-redis";
 *
 * console.log(isNodeRedisClient({})); // false
 * ```
 */
export function isNodeRedisClient(client: unknown): client is NodeRedisClient {
  return hasMethods(client, ["sendCommand", "duplicate", "subscribe"]) &&
    typeof (client as { isOpen?: unknown }).isOpen === "boolean";
}

/**
 * A {@linkcode RedisDriver} over a node-redis client. The subscriber is a
 * `duplicate()` of the client, unref'd, and closed when the client ends.
 *
 * @example Passing a driver explicitly
 * ```ts
 * import { RedisLock } from "@x/redis-lock";
 * import { nodeRedisDriver } from "@x/redis-lock/node-redis";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient().connect();
 * const lock = new RedisLock(nodeRedisDriver(client), "jobs:nightly");
 * ```
 */
export function nodeRedisDriver(client: NodeRedisClient): RedisDriver {
  return {
    ...scriptCommands((args) => client.sendCommand(args)),
    createSubscriber: (events) => openSubscriber(client, events),
    isTransient: (err) => isTransientError(err, client.isOpen),
  };
}

async function openSubscriber(
  client: NodeRedisClient,
  events: SubscriberEvents,
): Promise<RedisSubscriber> {
  const sub = client.duplicate() as NodeRedisClient & Closable;
  const listener: NodeRedisListener = (message, channel) =>
    events.message(channel, String(message));
  let connected = false;
  const onReady = () => connected && events.resubscribed();
  const onError = () => {}; // the socket reconnects by itself; errors surface on commands
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    client.off("end", close);
    sub.off("ready", onReady);
    events.closed();
    try {
      await (sub.close ?? sub.quit)?.call(sub);
    } catch {
      (sub.destroy ?? sub.disconnect)?.call(sub);
    }
  };
  sub.on("error", onError);
  sub.on("ready", onReady);
  client.on("end", close);
  try {
    await sub.connect();
  } catch (err) {
    await close();
    throw err;
  }
  connected = true;
  sub.unref?.();
  return {
    subscribe: async (channel) => void await sub.subscribe(channel, listener),
    unsubscribe: async (channel) => void await sub.unsubscribe(channel, listener),
    close,
  };
}

interface Closable {
  close?(): Promise<unknown>;
  quit?(): Promise<unknown>;
  destroy?(): unknown;
  disconnect?(): unknown;
  unref?(): void;
}

registerClientKind({
  name: "a node-redis client (createClient() from npm:redis)",
  order: 2,
  fits: isNodeRedisClient,
  adapt: nodeRedisDriver,
});
