/**
 * Adapter for Bun's built-in `RedisClient` (`import { RedisClient } from
 * "bun"`). You rarely need it directly: `new RedisLock(client, name)`
 * recognises a Bun client and uses this adapter.
 *
 * Bun's client reconnects by itself but does not subscribe again afterwards
 * (checked on Bun 1.4.4), so this adapter re-subscribes its channels when
 * the subscriber reconnects and then tells waiters to retry.
 *
 * The subscriber is a `duplicate()`, a connection of its own that Bun does
 * not close with your client. The adapter closes it when your client closes
 * (Bun calls its `onclose` on `close()` and when it gives up reconnecting).
 * For that it puts its own handler in front of your client's `onclose`; your
 * handler still runs, and reading or setting `client.onclose` later still
 * sees only yours.
 *
 * @module
 */

import type { RedisDriver, RedisSubscriber, SubscriberEvents } from "../redis/driver.ts";
import { hasMethods, isTransientError, scriptCommands } from "./_adapter.ts";
import { registerClientKind } from "../redis/_drivers.ts";

// The driver types, so that this entry point's documentation is complete on its own.
export type { RedisDriver, RedisSubscriber, SubscriberEvents } from "../redis/driver.ts";

/**
 * A Bun Pub/Sub listener.
 *
 * @example
 * ```ts
 * import type { BunRedisListener } from "@x/redis-lock/bun";
 *
 * const log: BunRedisListener = (message, channel) => console.log(channel, message);
 * ```
 */
export type BunRedisListener = (message: string, channel: string) => void;

/**
 * The part of Bun's `RedisClient` the adapter uses.
 *
 * @example Bun's client fits
 * ```ts ignore
 * import { RedisClient } from "bun";
 * import type { BunRedisClient } from "@x/redis-lock/bun";
 *
 * const client: BunRedisClient = new RedisClient("redis://127.0.0.1:6379");
 * ```
 */
export interface BunRedisClient {
  /** Sends a raw command. */
  send(command: string, args: string[]): Promise<unknown>;
  /** A new connected client with the same options. */
  duplicate(): Promise<BunRedisClient>;
  /** Subscribes `listener` to `channel`; resolves once confirmed. */
  subscribe(channel: string, listener: BunRedisListener): Promise<unknown>;
  /** Removes `listener` from `channel`. */
  unsubscribe(channel: string, listener?: BunRedisListener): Promise<unknown>;
  /** Closes the connection. */
  close(): void;
  /** Whether the client is connected. */
  readonly connected: boolean;
  /** Called on every (re)connection. */
  onconnect: ((this: BunRedisClient) => void) | null;
  /** Called when the client closes for good (`close()`, or it gave up reconnecting). */
  onclose?: ((this: BunRedisClient, error: Error) => void) | null;
}

/**
 * Tells whether `client` looks like Bun's `RedisClient`.
 *
 * @example
 * ```ts
 * import { isBunRedisClient } from "@x/redis-lock/bun";
 *
 * console.log(isBunRedisClient({})); // false
 * ```
 */
export function isBunRedisClient(client: unknown): client is BunRedisClient {
  return hasMethods(client, ["send", "duplicate", "subscribe"]) && "onconnect" in client &&
    typeof (client as { connected?: unknown }).connected === "boolean";
}

/**
 * A {@linkcode RedisDriver} over Bun's `RedisClient`. The subscriber is a
 * `duplicate()`; Bun does not let it keep the process alive.
 *
 * @example Passing a driver explicitly
 * ```ts ignore
 * import { RedisClient } from "bun";
 * import { RedisLock } from "@x/redis-lock";
 * import { bunRedisDriver } from "@x/redis-lock/bun";
 *
 * const lock = new RedisLock(bunRedisDriver(new RedisClient()), "jobs:nightly");
 * ```
 */
export function bunRedisDriver(client: BunRedisClient): RedisDriver {
  return {
    ...scriptCommands(([command, ...args]) => client.send(command, args)),
    createSubscriber: (events) => openSubscriber(client, events),
    // Bun's client reconnects by itself; a closed one is not told apart
    // from one that is reconnecting, so its waits retry until the deadline.
    isTransient: (err) => isTransientError(err, true),
  };
}

async function openSubscriber(
  client: BunRedisClient,
  events: SubscriberEvents,
): Promise<RedisSubscriber> {
  const sub = await client.duplicate();
  const channels = new Set<string>();
  const listener: BunRedisListener = (message, channel) => events.message(channel, `${message}`);
  let closed = false;
  const close = () => {
    if (closed) return Promise.resolve();
    closed = true;
    forget();
    sub.onconnect = null;
    sub.onclose = null;
    sub.close();
    events.closed();
    return Promise.resolve();
  };
  const forget = onClientClose(client, close);
  sub.onclose = close; // it gave up reconnecting
  sub.onconnect = () => {
    const again = [...channels].map((channel) => sub.subscribe(channel, listener));
    Promise.all(again).then(events.resubscribed, () => {});
  };
  return {
    subscribe: async (channel) => {
      channels.add(channel);
      await sub.subscribe(channel, listener);
    },
    unsubscribe: async (channel) => {
      channels.delete(channel);
      await sub.unsubscribe(channel, listener);
    },
    close,
  };
}

const closeListeners = new WeakMap<BunRedisClient, Set<() => void>>();

/**
 * Calls `listener` when `client` closes for good; returns how to stop. Bun
 * keeps one `onclose` per client: the first call puts a handler in front of
 * the application's, and an own accessor keeps it there if the application
 * sets `onclose` later (it reads back and replaces only its own handler).
 */
function onClientClose(client: BunRedisClient, listener: () => void): () => void {
  let listeners = closeListeners.get(client);
  if (!listeners) {
    const all = listeners = new Set();
    closeListeners.set(client, all);
    let theirs = client.onclose ?? null;
    client.onclose = function (this: BunRedisClient, error: Error) {
      for (const closed of [...all]) closed();
      theirs?.call(this, error);
    };
    Object.defineProperty(client, "onclose", {
      configurable: true,
      enumerable: true,
      get: () => theirs,
      set: (handler: typeof theirs) => void (theirs = handler),
    });
  }
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

registerClientKind({
  name: 'a Bun RedisClient (from "bun")',
  order: 2,
  fits: isBunRedisClient,
  adapt: bunRedisDriver,
});
