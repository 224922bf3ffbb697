/**
 * How `release --force` takes a lock away from a `redis-lock run` without
 * letting a waiter start beside the old command. The holder listens, on a
 * connection of its own, to the lock's revoke channel (not to the library's
 * wake-up channel, where it would count as a waiter in `status`).
 * `release --force` publishes `revoke <id>` there; a holder answers
 * `stopping <id> <ms>`, stops its command (SIGTERM, SIGKILL after
 * `--kill-after`), and only then releases the lock, which passes to the next
 * waiter. `release --force` waits for that, up to the time the holder
 * announced plus {@linkcode RELEASE_SLACK_MS}, and deletes the key itself
 * only if no holder answered within {@linkcode ACK_WAIT_MS} or the holder
 * did not let go in time.
 *
 * @module
 */

import { type CliClient, closeRedis, type MessageListener } from "./redis.ts";
import { cliKeys } from "./keys.ts";
import { within } from "./timers.ts";

/** How long subscribing (a new connection, then SUBSCRIBE) may take. */
export const SUBSCRIBE_TIMEOUT_MS = 5_000;

/** How long `release --force` waits for a holder to answer. */
export const ACK_WAIT_MS = 2_000;

/**
 * What `release --force` adds to the holder's announced stopping time before
 * it deletes the key anyway: SIGKILL taking effect, and the holder's release.
 */
export const RELEASE_SLACK_MS = 7_000;

/**
 * What a holding `redis-lock run` hears about its lock.
 *
 * @example
 * ```ts
 * import type { LockEvents } from "./revoke.ts";
 *
 * const events: LockEvents = {
 *   revoke: (acknowledge) => void acknowledge(10_000),
 * };
 * ```
 */
export interface LockEvents {
  /**
   * `release --force` asks the holder to let go. A holder that will stop its
   * command answers with `acknowledge(ms)`: the time it needs at most.
   */
  revoke(acknowledge: (ms: number) => Promise<void>): void;
}

/**
 * The holder's subscriptions; see {@linkcode listenToLock}.
 *
 * @example
 * ```ts
 * import type { LockListener } from "./revoke.ts";
 *
 * declare const listener: LockListener;
 * await listener.close();
 * ```
 */
export interface LockListener {
  /** Unsubscribes and closes the connection. */
  close(): Promise<void>;
}

/**
 * Subscribes to the lock's revoke channel on a new connection (a
 * `duplicate()` of `client`), and resolves once Redis has confirmed it.
 *
 * @param client The command's Redis client.
 * @param name The lock's name.
 * @param events Where to report.
 * @returns The listener; close it before releasing the lock.
 * @throws {Error} When the connection or the subscription fails, or takes
 *   longer than {@linkcode SUBSCRIBE_TIMEOUT_MS}.
 *
 * @example
 * ```ts
 * import { connectRedis } from "./redis.ts";
 * import { listenToLock } from "./revoke.ts";
 *
 * const client = await connectRedis("redis://127.0.0.1:6379");
 * const listener = await listenToLock(client, "job", {
 *   revoke: (acknowledge) => void acknowledge(10_000),
 * });
 * await listener.close();
 * await client.close();
 * ```
 */
export async function listenToLock(
  client: CliClient,
  name: string,
  events: LockEvents,
): Promise<LockListener> {
  const keys = cliKeys(name);
  const subscriber = client.duplicate();
  subscriber.on("error", () => {}); // it reconnects and re-subscribes by itself
  let closed = false;
  const onRevoke: MessageListener = (message) => {
    const [verb, id] = message.split(" ");
    if (closed || verb !== "revoke" || !id) return;
    events.revoke(async (ms) => {
      await client.sendCommand(["PUBLISH", keys.revoke, `stopping ${id} ${Math.ceil(ms)}`]);
    });
  };
  try {
    const subscribed = (async () => {
      await subscriber.connect();
      await subscriber.subscribe(keys.revoke, onRevoke);
    })();
    await within(subscribed, SUBSCRIBE_TIMEOUT_MS, "no reply from Redis (subscribing)");
  } catch (err) {
    await closeRedis(subscriber);
    throw err;
  }
  return {
    async close() {
      if (closed) return;
      closed = true;
      await closeRedis(subscriber);
    },
  };
}

/**
 * What a holder answered to `release --force`.
 *
 * @example
 * ```ts
 * import type { RevokeAnswer } from "./revoke.ts";
 *
 * const answer: RevokeAnswer = { listeners: 1, stoppingWithin: 10_000 };
 * ```
 */
export interface RevokeAnswer {
  /** How many `redis-lock run` holders heard the request. */
  readonly listeners: number;
  /** The stopping time the holder announced, in ms; `undefined` when none answered. */
  readonly stoppingWithin: number | undefined;
}

/**
 * Asks whoever holds the lock `name` to stop its command and let go, and
 * waits up to {@linkcode ACK_WAIT_MS} for an answer. Answers arrive on a
 * connection of its own (a `duplicate()` of `client`).
 *
 * @param client The command's Redis client.
 * @param name The lock's name.
 * @returns Who heard it, and what the holder announced.
 * @throws {Error} When Redis fails.
 *
 * @example
 * ```ts
 * import { connectRedis } from "./redis.ts";
 * import { requestRevoke } from "./revoke.ts";
 *
 * const client = await connectRedis("redis://127.0.0.1:6379");
 * console.log(await requestRevoke(client, "job"));
 * await client.close();
 * ```
 */
export async function requestRevoke(client: CliClient, name: string): Promise<RevokeAnswer> {
  const keys = cliKeys(name);
  const id = crypto.randomUUID();
  const subscriber = client.duplicate();
  subscriber.on("error", () => {});
  let answered: (ms: number) => void = () => {};
  const answer = new Promise<number>((resolve) => answered = resolve);
  const onMessage: MessageListener = (message) => {
    const [verb, to, ms] = message.split(" ");
    if (verb === "stopping" && to === id && Number.isFinite(Number(ms))) answered(Number(ms));
  };
  try {
    const subscribed = (async () => {
      await subscriber.connect();
      await subscriber.subscribe(keys.revoke, onMessage);
    })();
    await within(subscribed, SUBSCRIBE_TIMEOUT_MS, "no reply from Redis (subscribing)");
    // Our own subscription is one of the receivers.
    const receivers = Number(await client.sendCommand(["PUBLISH", keys.revoke, `revoke ${id}`]));
    const listeners = Math.max(0, receivers - 1);
    if (listeners === 0) return { listeners, stoppingWithin: undefined };
    return { listeners, stoppingWithin: await within(answer, ACK_WAIT_MS, "ack", () => undefined) };
  } finally {
    await closeRedis(subscriber);
  }
}
