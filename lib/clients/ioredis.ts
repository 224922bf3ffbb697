/**
 * Adapter for ioredis (`npm:ioredis`, v5 and v6). You rarely need it
 * directly: `new RedisLock(client, name)` recognises an ioredis client and
 * uses this adapter.
 *
 * @module
 */

import type { RedisDriver, RedisSubscriber, SubscriberEvents } from "../redis/driver.ts";
import { hasMethods, isTransientError } from "./_adapter.ts";
import { registerClientKind } from "../redis/_drivers.ts";

// The driver types, so that this entry point's documentation is complete on its own.
export type { RedisDriver, RedisSubscriber, SubscriberEvents } from "../redis/driver.ts";

/**
 * An ioredis event listener.
 *
 * @example
 * ```ts
 * import type { IoRedisListener } from "@x/redis-lock/ioredis";
 *
 * const log: IoRedisListener = (...args) => console.log(args);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type IoRedisListener = (...args: any[]) => void;

/**
 * The part of an ioredis client (`new Redis()`) the adapter uses.
 *
 * @example Any ioredis client fits
 * ```ts
 * import type { IoRedisClient } from "@x/redis-lock/ioredis";
 * import { Redis } from "npm:ioredis@^5";
 *
 * const client: IoRedisClient = new Redis({ lazyConnect: true });
 * ```
 */
export interface IoRedisClient {
  /** Sends a raw command. */
  call(command: string, ...args: string[]): Promise<unknown>;
  /** A new client with the same options, `override` applied. */
  duplicate(override?: { lazyConnect?: boolean }): IoRedisClient;
  /** Connects (with `lazyConnect`). */
  connect(): Promise<unknown>;
  /** Subscribes; resolves once confirmed. */
  subscribe(channel: string): Promise<unknown>;
  /** Unsubscribes; resolves once confirmed. */
  unsubscribe(channel: string): Promise<unknown>;
  /** Round trip (allowed in subscriber mode). */
  ping(): Promise<unknown>;
  /** Adds an event listener. */
  on(event: string, listener: IoRedisListener): unknown;
  /** Removes an event listener. */
  off(event: string, listener: IoRedisListener): unknown;
  /** Closes after pending replies. */
  quit(): Promise<unknown>;
  /** Closes at once. */
  disconnect(): void;
  /** `"ready"`, `"connecting"`, `"end"` and so on. */
  readonly status: string;
}

/**
 * Tells whether `client` looks like an ioredis client.
 *
 * @example
 * ```ts
 * import { isIoRedisClient } from "@x/redis-lock/ioredis";
 *
 * console.log(isIoRedisClient({})); // false
 * ```
 */
export function isIoRedisClient(client: unknown): client is IoRedisClient {
  return hasMethods(client, ["call", "duplicate", "evalsha"]) &&
    typeof (client as { status?: unknown }).status === "string";
}

/**
 * A {@linkcode RedisDriver} over an ioredis client. The subscriber is a
 * `duplicate()` whose socket is unref'd; it is closed when the client ends.
 *
 * @example Passing a driver explicitly
 * ```ts
 * import { RedisLock } from "@x/redis-lock";
 * import { ioRedisDriver } from "@x/redis-lock/ioredis";
 * import { Redis } from "npm:ioredis@^5";
 *
 * const client = new Redis();
 * const lock = new RedisLock(ioRedisDriver(client), "jobs:nightly");
 * ```
 */
export function ioRedisDriver(client: IoRedisClient): RedisDriver {
  return {
    // Straight to `call`: no intermediate arrays on the hot path.
    evalsha: (sha, keys, args) => client.call("EVALSHA", sha, `${keys.length}`, ...keys, ...args),
    eval: (source, keys, args) => client.call("EVAL", source, `${keys.length}`, ...keys, ...args),
    createSubscriber: (events) => openSubscriber(client, events),
    isTransient: (err) => isTransientError(err, client.status !== "end"),
  };
}

async function openSubscriber(
  client: IoRedisClient,
  events: SubscriberEvents,
): Promise<RedisSubscriber> {
  const sub = client.duplicate({ lazyConnect: true });
  const socket = sub as unknown as { stream?: { unref?(): void } };
  let connected = false;
  let closed = false;
  const onMessage = (channel: string, message: string) => events.message(channel, `${message}`);
  const onConnect = () => socket.stream?.unref?.(); // every new socket
  // After a reconnect ioredis re-sends SUBSCRIBE for every channel it had
  // when the connection dropped, once "ready"; but it writes (UN)SUBSCRIBE
  // on the new socket before that, so an UNSUBSCRIBE sent meanwhile would be
  // undone. Our commands therefore wait until the re-sent SUBSCRIBE is
  // confirmed: ioredis emits "ready" before re-sending it, and a PING queued
  // after it answers once it is.
  let settled = Promise.resolve();
  let settle: (() => void) | undefined; // set while our commands wait
  const onClose = () => {
    if (closed || settle) return;
    settled = new Promise<void>((resolve) => settle = resolve);
  };
  const ready = () => {
    settle?.();
    settle = undefined;
  };
  const onReady = () => {
    if (!connected) return ready(); // the first connection has nothing to re-send
    setTimeout(() =>
      sub.ping().then(() => {
        ready();
        events.resubscribed();
      }, () => {}), 0);
  };
  const close = async () => {
    if (closed) return;
    closed = true;
    ready();
    client.off("end", close);
    events.closed();
    await sub.quit().catch(() => sub.disconnect());
  };
  sub.on("error", () => {}); // it reconnects by itself; errors surface on commands
  sub.on("message", onMessage as IoRedisListener);
  sub.on("connect", onConnect);
  sub.on("close", onClose);
  sub.on("ready", onReady);
  client.on("end", close);
  try {
    await sub.connect();
  } catch (err) {
    await close();
    throw err;
  }
  connected = true;
  return {
    subscribe: async (channel) => {
      await settled;
      await sub.subscribe(channel);
    },
    unsubscribe: async (channel) => {
      await settled;
      if (!closed) await sub.unsubscribe(channel);
    },
    close,
  };
}

registerClientKind({
  name: "an ioredis client (new Redis() from npm:ioredis)",
  order: 2,
  fits: isIoRedisClient,
  adapt: ioRedisDriver,
});
