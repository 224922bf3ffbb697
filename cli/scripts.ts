/**
 * What only the `redis-lock` command needs from Redis: reading a lock's
 * state for `status` and the waiting status line, and who holds it and
 * deleting it for `release --force`. Its scripts live here, not with the
 * library's: only the command runs them, over its own node-redis client.
 *
 * @module
 */

import { cliKeys, type CommandClient, evalScript, toInt, toText } from "./keys.ts";

/**
 * A lock's state in one read. KEYS: lock key, fencing counter, queue.
 * ARGV: channel.
 * Reply: `{type, pttl, waiters, fence}`: the key's type (`none` when free,
 * `string` for a lock), its PTTL (-2 when free, -1 without TTL), the live
 * fair waiters queued (the queue's entries, score > 0, less those whose
 * liveness deadline, `!<token>` scored by minus it, has passed) plus the
 * channel's subscriber count (`PUBSUB NUMSUB`: processes waiting in race
 * mode), and the fencing counter as a string ("" when never set).
 */
const STATUS = `
local kind = redis.call('TYPE', KEYS[1])['ok']
local fence = ''
if redis.call('TYPE', KEYS[2])['ok'] == 'string' then fence = redis.call('GET', KEYS[2]) end
local queued = 0
if redis.call('TYPE', KEYS[3])['ok'] == 'zset' then
  local t = redis.call('TIME')
  local now = string.format('%.0f', -(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)))
  queued = redis.call('ZCOUNT', KEYS[3], '(0', '+inf') - redis.call('ZCOUNT', KEYS[3], now, '(0')
end
local racing = redis.call('PUBSUB', 'NUMSUB', ARGV[1])[2]
return {kind, redis.call('PTTL', KEYS[1]), queued + racing, fence}`;

/**
 * Who holds the lock. KEYS: lock key.
 * Reply: `{type, value, pttl}` (value "" for a key of another type).
 */
const HOLDER = `
local kind = redis.call('TYPE', KEYS[1])['ok']
local value = ''
if kind == 'string' then value = redis.call('GET', KEYS[1]) end
return {kind, value, redis.call('PTTL', KEYS[1])}`;

/**
 * Delete the lock and wake the waiters, if it still holds the value seen
 * (a key of another type is deleted whatever it holds): `released` on the
 * channel (race-mode waiters) and on the hand-off channel of every process
 * with a fair waiter queued (`<channel>:<mark>`, the mark read from the
 * waiter's token), so that they all try again at once.
 * KEYS: lock key, queue, the holder's record (`<who><value>`, deleted with
 * the key). ARGV: channel, expected value.
 * Reply: the PTTL the key had (-1 without TTL), -2 when it was gone, -3
 * when it held another value.
 */
const FORCE_RELEASE = `
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 then return -2 end
if redis.call('TYPE', KEYS[1])['ok'] == 'string' and redis.call('GET', KEYS[1]) ~= ARGV[2] then
  return -3
end
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('PUBLISH', ARGV[1], 'released')
if redis.call('TYPE', KEYS[2])['ok'] == 'zset' then
  local told = {}
  for _, token in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(0', '+inf')) do
    local mark = string.match(token, '@(%x+)%.')
    if mark and not told[mark] then
      told[mark] = true
      redis.call('PUBLISH', ARGV[1] .. ':' .. mark, 'released')
    end
  end
end
return pttl`;

/**
 * What `redis-lock status` reports about one lock.
 *
 * @example
 * ```ts
 * import type { LockStatus } from "./scripts.ts";
 *
 * const status: LockStatus = {
 *   name: "job",
 *   key: "lock:{job}",
 *   held: true,
 *   type: "string",
 *   remaining: 12_000,
 *   waiters: 1,
 *   fencingToken: null,
 * };
 * ```
 */
export interface LockStatus {
  /** The lock's name. */
  readonly name: string;
  /** The Redis key of the lock. */
  readonly key: string;
  /** Whether the key exists (a lock held by someone, or a key of another type). */
  readonly held: boolean;
  /**
   * The key's Redis type: `none` when free, `string` for a lock; anything
   * else (`hash`, `list`, ...) is not a lock, and `run` fails on it.
   */
  readonly type: string;
  /** The holder's lease left, in ms: 0 when free, `null` for a key without TTL. */
  readonly remaining: number | null;
  /**
   * Who waits: each `RedisLock` waiter queued in fair mode (the default),
   * plus each process waiting in race mode (`fair: false`: it counts once,
   * however many waiters it has); spin-lock waiters that do not queue do
   * not count.
   */
  readonly waiters: number;
  /** The last fencing token handed out for this name, or `null` when none was. */
  readonly fencingToken: number | null;
}

/**
 * Reads the state of the lock called `name`, atomically.
 *
 * @param client The command's Redis client.
 * @param name The lock's name.
 * @param prefix The library's `prefix` option. @default {"lock:"}
 * @returns The lock's state.
 *
 * @example
 * ```ts
 * import { readStatus } from "./scripts.ts";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient().connect();
 * const status = await readStatus(client, "job");
 * console.log(status.held, status.remaining);
 * await client.close();
 * ```
 */
export async function readStatus(
  client: CommandClient,
  name: string,
  prefix?: string,
): Promise<LockStatus> {
  const keys = cliKeys(name, prefix);
  const reply = await evalScript(client, STATUS, [keys.key, keys.fence, keys.queue], [
    keys.channel,
  ]);
  if (!Array.isArray(reply) || reply.length !== 4) {
    throw new TypeError(`Unexpected Redis reply: ${String(reply)}`);
  }
  const pttl = toInt(reply[1]);
  const fence = toText(reply[3]);
  return {
    name,
    key: keys.key,
    held: pttl !== -2,
    type: toText(reply[0]),
    remaining: pttl === -1 ? null : Math.max(0, pttl),
    waiters: toInt(reply[2]),
    fencingToken: fence === "" ? null : Number(fence),
  };
}

/**
 * Who holds a lock: what `release --force` reads before it asks the holder
 * to let go.
 *
 * @example
 * ```ts
 * import type { Holder } from "./scripts.ts";
 *
 * const holder: Holder = { type: "string", value: "f3a1...", remaining: 24_000 };
 * ```
 */
export interface Holder {
  /** The key's Redis type (`string` for a lock). */
  readonly type: string;
  /** The key's value (the holder's token), or "" for another type. */
  readonly value: string;
  /** The lease left in ms; `Infinity` for a key without TTL. */
  readonly remaining: number;
}

/**
 * Reads who holds the lock called `name`.
 *
 * @param client The command's Redis client.
 * @param name The lock's name.
 * @returns The holder, or `undefined` when the lock is free.
 *
 * @example
 * ```ts
 * import { readHolder } from "./scripts.ts";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient().connect();
 * console.log(await readHolder(client, "job"));
 * await client.close();
 * ```
 */
export async function readHolder(
  client: CommandClient,
  name: string,
): Promise<Holder | undefined> {
  const reply = await evalScript(client, HOLDER, [cliKeys(name).key], []);
  if (!Array.isArray(reply) || reply.length !== 3) {
    throw new TypeError(`Unexpected Redis reply: ${String(reply)}`);
  }
  const pttl = toInt(reply[2]);
  if (pttl === -2) return undefined;
  return {
    type: toText(reply[0]),
    value: toText(reply[1]),
    remaining: pttl === -1 ? Infinity : pttl,
  };
}

/**
 * Deletes the lock called `name` if it still holds `expected` (a key of
 * another type is deleted whatever it holds), and publishes on its channel
 * so that waiters try again at once.
 *
 * @param client The command's Redis client.
 * @param name The lock's name.
 * @param expected The value read before (the holder's token).
 * @returns The lease the holder had left in ms (`Infinity` without TTL);
 *   `"free"` when the key was gone; `"moved"` when it now holds another
 *   value (the holder let go and the lock passed on).
 *
 * @example
 * ```ts
 * import { forceRelease, readHolder } from "./scripts.ts";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient().connect();
 * const holder = await readHolder(client, "job");
 * if (holder) console.log(await forceRelease(client, "job", holder.value));
 * await client.close();
 * ```
 */
export async function forceRelease(
  client: CommandClient,
  name: string,
  expected: string,
): Promise<number | "free" | "moved"> {
  const keys = cliKeys(name);
  const pttl = toInt(
    await evalScript(client, FORCE_RELEASE, [keys.key, keys.queue, keys.who + expected], [
      keys.channel,
      expected,
    ]),
  );
  return pttl === -2 ? "free" : pttl === -3 ? "moved" : pttl === -1 ? Infinity : pttl;
}
