/**
 * The one Redis connection of a `redis-lock` invocation: which URL (flag,
 * `REDIS_URL`, default), connecting without retrying forever, and closing at
 * the end so the process can exit.
 *
 * @module
 */

import { createClient } from "redis";
import { messageOf } from "./exit.ts";
import { UsageError } from "./args.ts";
import { within } from "./timers.ts";
import type { NodeRedisClient, NodeRedisListener } from "@x/redis-lock";

/** The server used when neither `--url` nor `REDIS_URL` names one. */
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/** A Pub/Sub listener of node-redis. */
export type MessageListener = NodeRedisListener;

/**
 * What `redis-lock` needs of its node-redis client: what a lock needs (the
 * library's `NodeRedisClient`: it is handed to `RedisLock` as is), a second
 * connection for the command's own subscriptions, and closing.
 *
 * @example
 * ```ts
 * import type { CliClient } from "./redis.ts";
 * import { createClient } from "npm:redis@^6";
 *
 * const client: CliClient = createClient();
 * ```
 */
export interface CliClient extends NodeRedisClient {
  /** A new, unconnected client with the same options. */
  duplicate(): CliClient;
  /** Closes the connection once pending commands are answered. */
  close(): Promise<void>;
  /** Closes the connection at once. */
  destroy(): void;
}

/**
 * The Redis URL to use: `--url` if given, else `REDIS_URL`, else
 * {@linkcode DEFAULT_REDIS_URL}. It must be a `redis://` or `rediss://` URL.
 *
 * @param command The subcommand, for the error message.
 * @param flag The `--url` value, if any.
 * @param env The environment (for `REDIS_URL`).
 * @returns The URL.
 * @throws {UsageError} When the URL is not a redis:// or rediss:// URL.
 *
 * @example
 * ```ts
 * import { redisUrl } from "./redis.ts";
 *
 * console.log(redisUrl("status", undefined, { REDIS_URL: "redis://cache:6379" })); // redis://cache:6379
 * ```
 */
export function redisUrl(
  command: string,
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const url = flag ?? (env.REDIS_URL || DEFAULT_REDIS_URL);
  if (!/^rediss?:\/\/[^/]/.test(url) || !URL.canParse(url)) {
    const from = flag === undefined ? "REDIS_URL" : "--url";
    const masked = JSON.stringify(url.replace(/\/\/[^/@]*@/, "//***@")); // no password shown
    throw new UsageError(command, `${from}: not a redis:// or rediss:// URL: ${masked}`);
  }
  return url;
}

/** `url` without its password, for messages. */
function shown(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
}

/**
 * Connects to Redis. The first connection is tried once (a refused or timed
 * out connection rejects at once instead of retrying forever); after that,
 * the client reconnects by itself, as a held lock needs, and commands sent
 * while it is disconnected fail at once. When `signal` aborts first (a
 * signal while connecting), the attempt is dropped and the call rejects
 * with `signal.reason` at once.
 *
 * @param url A redis:// or rediss:// URL.
 * @param signal Cancels the connection attempt.
 * @returns The connected client; close it with {@linkcode closeRedis}.
 * @throws {Error} When Redis cannot be reached; the message names the server.
 *
 * @example
 * ```ts
 * import { closeRedis, connectRedis } from "./redis.ts";
 *
 * const client = await connectRedis("redis://127.0.0.1:6379");
 * console.log(await client.sendCommand(["PING"]));
 * await closeRedis(client);
 * ```
 */
export async function connectRedis(url: string, signal?: AbortSignal): Promise<CliClient> {
  signal?.throwIfAborted();
  let connected = false;
  const client: CliClient = createClient({
    url,
    // While disconnected, commands fail at once instead of waiting for a
    // reconnection: a renewal is retried (or the lease ends), a wait fails.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5_000,
      reconnectStrategy: (retries: number, cause: Error) =>
        connected ? Math.min(50 * 2 ** retries, 2_000) : cause,
    },
  });
  client.on("error", () => {}); // connection errors surface on the commands that fail
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([client.connect(), aborted]);
  } catch (err) {
    if (client.isOpen) client.destroy();
    if (signal?.aborted && err === signal.reason) throw err;
    throw new Error(`cannot connect to Redis at ${shown(url)}: ${messageOf(err)}`, { cause: err });
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  connected = true;
  return client;
}

/**
 * Closes the client (and with it the lock's subscriber connection). A close
 * that takes longer than a second, for example while Redis is unreachable,
 * is cut short.
 *
 * @param client A client from {@linkcode connectRedis}.
 *
 * @example
 * ```ts
 * import { closeRedis, connectRedis } from "./redis.ts";
 *
 * await closeRedis(await connectRedis("redis://127.0.0.1:6379"));
 * ```
 */
export async function closeRedis(client: CliClient): Promise<void> {
  const closing = client.close().catch(() => "failed" as const);
  const outcome = await within(closing, 1_000, "close", () => "timeout" as const);
  if (outcome !== undefined && client.isOpen) client.destroy();
}
