/**
 * The small interface through which the lock core talks to Redis. Each client
 * library (node-redis, ioredis, Bun's `RedisClient`) is an adapter that fills
 * it in; bring your own client by implementing it and passing the driver to
 * `new RedisLock(driver, name)`.
 *
 * @module
 */

/**
 * Callbacks a subscriber connection reports to.
 *
 * @example A handler that logs what arrives
 * ```ts
 * import type { SubscriberEvents } from "@x/redis-lock";
 *
 * const events: SubscriberEvents = {
 *   message: (channel) => console.log("wake-up on", channel),
 *   resubscribed: () => console.log("reconnected; messages may have been missed"),
 *   closed: () => console.log("subscriber gone"),
 * };
 * ```
 */
export interface SubscriberEvents {
  /** A message arrived on a subscribed channel. */
  message(channel: string, payload: string): void;
  /**
   * The connection was re-established and its channels subscribed again.
   * Messages sent in between are lost, so every waiter retries.
   */
  resubscribed(): void;
  /** The connection closed for good (for example its client was closed). */
  closed(): void;
}

/**
 * A connection in subscriber mode.
 *
 * @example Using a subscriber from a driver
 * ```ts
 * import type { RedisDriver } from "@x/redis-lock";
 *
 * async function watch(driver: RedisDriver) {
 *   const sub = await driver.createSubscriber({
 *     message: (channel, payload) => console.log(channel, payload),
 *     resubscribed: () => {},
 *     closed: () => {},
 *   });
 *   await sub.subscribe("lock:{jobs}:wake");
 *   await sub.unsubscribe("lock:{jobs}:wake");
 *   await sub.close();
 * }
 * ```
 */
export interface RedisSubscriber {
  /** Subscribes; resolves once Redis has confirmed the subscription. */
  subscribe(channel: string): Promise<void>;
  /** Unsubscribes; resolves once Redis has confirmed it. */
  unsubscribe(channel: string): Promise<void>;
  /** Closes the connection. */
  close(): Promise<void>;
}

/**
 * What the lock core needs from a Redis client: run scripts and open one
 * subscriber connection. Script replies must come back as they do from Redis:
 * integers as numbers, arrays as arrays.
 *
 * @example A driver for a hypothetical client with `call(...args)`
 * ```ts
 * import type { RedisDriver } from "@x/redis-lock";
 *
 * declare const client: { call(...args: string[]): Promise<unknown> };
 *
 * const driver: RedisDriver = {
 *   evalsha: (sha, keys, args) => client.call("EVALSHA", sha, `${keys.length}`, ...keys, ...args),
 *   eval: (src, keys, args) => client.call("EVAL", src, `${keys.length}`, ...keys, ...args),
 *   createSubscriber: () => Promise.reject(new Error("no Pub/Sub: use RedisSpinLock")),
 * };
 * ```
 */
export interface RedisDriver {
  /**
   * Runs a cached script: `EVALSHA sha numkeys ...keys ...args`. Must reject
   * with an error whose message starts with `NOSCRIPT` when Redis does not
   * know the script; the core then falls back to {@linkcode RedisDriver.eval}.
   */
  evalsha(sha: string, keys: string[], args: string[]): Promise<unknown>;
  /** Runs a script from source: `EVAL source numkeys ...keys ...args`. */
  eval(source: string, keys: string[], args: string[]): Promise<unknown>;
  /**
   * Opens a new connection for Pub/Sub (the core opens at most one per
   * driver and shares it). It must not keep the process alive on its own.
   */
  createSubscriber(events: SubscriberEvents): Promise<RedisSubscriber>;
  /**
   * Whether a command that failed with `error` may succeed if sent again
   * (the connection dropped and the client reconnects, or Redis answered
   * `LOADING`, `TRYAGAIN`…). An attempt to acquire is then retried while
   * its deadline leaves time. Without it, every error is final.
   */
  isTransient?(error: unknown): boolean;
  /**
   * Whether wake-ups use sharded Pub/Sub (Redis 7 Cluster): scripts then
   * publish with `SPUBLISH`, and the subscriber must use `SSUBSCRIBE`.
   * @default {false}
   */
  readonly sharded?: boolean;
}
