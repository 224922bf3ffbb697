/**
 * The Redis names of a lock as the `redis-lock` command sees them (the
 * library's layout, plus the command's own revoke channel), and the few
 * helpers its scripts share. The command talks to Redis through its own
 * node-redis client, not through the library's drivers.
 *
 * @module
 */

/**
 * The part of a node-redis client the command's scripts need.
 *
 * @example
 * ```ts
 * import type { CommandClient } from "./keys.ts";
 * import { createClient } from "npm:redis@^6";
 *
 * const client: CommandClient = createClient();
 * ```
 */
export interface CommandClient {
  /** Sends a raw command and resolves with its reply. */
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * The Redis names of one lock, as the library lays them out (`lock:{name}`
 * and friends, the name percent-encoded so it is always the hash tag), plus
 * the command's own revoke channel.
 *
 * @example
 * ```ts
 * import type { CliKeys } from "./keys.ts";
 *
 * const keys: CliKeys = {
 *   key: "lock:{job}",
 *   fence: "lock:{job}:fence",
 *   queue: "lock:{job}:queue",
 *   channel: "lock:{job}:wake",
 *   revoke: "lock:{job}:revoke",
 *   who: "lock:{job}:who:",
 * };
 * ```
 */
export interface CliKeys {
  /** The lock itself: a string holding the owner's token, with a TTL. */
  readonly key: string;
  /** The fencing counter. */
  readonly fence: string;
  /** Fair mode's queue (waiter tokens with a positive score, in arrival order). */
  readonly queue: string;
  /**
   * The library's wake-up channel: releases are announced here to race-mode
   * waiters; hand-offs go to `<channel>:<mark>`, one channel per process.
   */
  readonly channel: string;
  /**
   * The command's own channel: `release --force` asks a holding
   * `redis-lock run` to stop its command here, and the holder answers here.
   */
  readonly revoke: string;
  /**
   * The start of a holder's record (`<who><token>`: when its hold began,
   * written by its first renewal); who it is, is in its token.
   */
  readonly who: string;
}

/**
 * The keys and channels of the lock called `name`. The layout is the
 * library's (`lib/redis/_keys.ts`; a test checks that both agree).
 *
 * @param name The lock's name.
 * @param prefix The library's `prefix` option (a lock's default, `lock:`).
 * @returns Its keys and channels.
 *
 * @example
 * ```ts
 * import { cliKeys } from "./keys.ts";
 *
 * console.log(cliKeys("a{b}").key); // lock:{a%7Bb%7D}
 * ```
 */
export function cliKeys(name: string, prefix = "lock:"): CliKeys {
  const base = `${prefix}{${encodeName(name)}}`;
  return {
    key: base,
    fence: `${base}:fence`,
    queue: `${base}:queue`,
    channel: `${base}:wake`,
    revoke: `${base}:revoke`,
    who: `${base}:who:`,
  };
}

/**
 * A name as the library puts it in a hash tag: `%`, `{` and `}`
 * percent-encoded, so the tag is always the whole name.
 *
 * @param name A lock or semaphore name.
 * @returns The encoded name.
 *
 * @example
 * ```ts
 * import { encodeName } from "./keys.ts";
 *
 * console.log(encodeName("a{b}")); // a%7Bb%7D
 * ```
 */
export function encodeName(name: string): string {
  return name.replace(/[%{}]/g, (c) => c === "%" ? "%25" : c === "{" ? "%7B" : "%7D");
}

/**
 * Runs a Lua script with EVAL (the command's scripts are small, and run a
 * few times per invocation).
 *
 * @param client The command's Redis client.
 * @param source The script.
 * @param keys Its KEYS.
 * @param args Its ARGV.
 * @returns The raw reply.
 *
 * @example
 * ```ts
 * import { evalScript } from "./keys.ts";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient().connect();
 * console.log(await evalScript(client, "return 1", [], []));
 * await client.close();
 * ```
 */
export async function evalScript(
  client: CommandClient,
  source: string,
  keys: string[],
  args: string[],
): Promise<unknown> {
  return await client.sendCommand(["EVAL", source, `${keys.length}`, ...keys, ...args]);
}

/**
 * Reads an integer reply.
 *
 * @param reply A number, or a numeric string.
 * @returns The integer.
 * @throws {TypeError} For anything else.
 *
 * @example
 * ```ts
 * import { toInt } from "./keys.ts";
 *
 * console.log(toInt("42")); // 42
 * ```
 */
export function toInt(reply: unknown): number {
  const n = typeof reply === "number" ? reply : Number(reply);
  if (!Number.isInteger(n)) throw new TypeError(`Unexpected Redis reply: ${String(reply)}`);
  return n;
}

/**
 * Reads a string reply (a string, or bytes as UTF-8).
 *
 * @param reply The reply.
 * @returns Its text; "" for none.
 *
 * @example
 * ```ts
 * import { toText } from "./keys.ts";
 *
 * console.log(toText("OK")); // OK
 * ```
 */
export function toText(reply: unknown): string {
  if (typeof reply === "string") return reply;
  if (reply instanceof Uint8Array) return new TextDecoder().decode(reply);
  return String(reply ?? "");
}
