/**
 * A semaphore's state for `redis-lock status`: its live holders (the lease
 * left to each) and its waiters, read in one script over the library's
 * semaphore layout (`sem:{name}:holders`, a sorted set of holder tokens
 * scored by the end of each lease in Redis ms; `sem:{name}:queue`, the fair
 * queue; `sem:{name}:wake`, the race-mode channel).
 *
 * @module
 */

import { type CommandClient, encodeName, evalScript, toInt } from "./keys.ts";

/**
 * A semaphore's state in one read. KEYS: holders, queue. ARGV: channel.
 * Reply: `{waiters, holders, lease1, lease2, ...}`: the live fair waiters
 * queued (a dead one's liveness deadline has passed) plus the race-mode
 * waiters subscribed, how many holders are live, then the ms left on the
 * first 1 000 live holders' leases, shortest first.
 */
const SEM_STATUS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local reply = {redis.call('PUBSUB', 'NUMSUB', ARGV[1])[2], 0}
if redis.call('TYPE', KEYS[2])['ok'] == 'zset' then
  reply[1] = reply[1] + redis.call('ZCOUNT', KEYS[2], '-inf', '(' .. string.format('%d', -now))
end
if redis.call('TYPE', KEYS[1])['ok'] == 'zset' then
  local from = '(' .. string.format('%d', now)
  reply[2] = redis.call('ZCOUNT', KEYS[1], from, '+inf')
  local leases = redis.call('ZRANGEBYSCORE', KEYS[1], from, '+inf', 'WITHSCORES', 'LIMIT', 0, 1000)
  for i = 2, #leases, 2 do reply[#reply + 1] = tonumber(leases[i]) - now end
end
return reply`;

/**
 * A semaphore's state.
 *
 * @example
 * ```ts
 * import type { SemaphoreStatus } from "./semaphore_status.ts";
 *
 * const status: SemaphoreStatus = { key: "sem:{exports}:holders", holders: 2, leases: [9_000, 27_000], waiters: 1 };
 * ```
 */
export interface SemaphoreStatus {
  /** The Redis key of its holders. */
  readonly key: string;
  /** How many holders are live. */
  readonly holders: number;
  /** The ms left on each live holder's lease, shortest first (the first 1 000). */
  readonly leases: readonly number[];
  /** How many wait: queued (fair) or subscribed (race mode). */
  readonly waiters: number;
}

/**
 * Reads the state of the semaphore called `name`.
 *
 * @param client The command's Redis client.
 * @param name The semaphore's name.
 * @param prefix The library's `prefix` option (before `sem:`).
 * @returns Its state (no holder and no waiter when unused).
 *
 * @example
 * ```ts
 * import { readSemaphoreStatus } from "./semaphore_status.ts";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient().connect();
 * console.log(await readSemaphoreStatus(client, "exports"));
 * await client.close();
 * ```
 */
export async function readSemaphoreStatus(
  client: CommandClient,
  name: string,
  prefix = "",
): Promise<SemaphoreStatus> {
  const base = `${prefix}sem:{${encodeName(name)}}`;
  const key = `${base}:holders`;
  const reply = await evalScript(client, SEM_STATUS, [key, `${base}:queue`], [`${base}:wake`]);
  if (!Array.isArray(reply) || reply.length < 2) {
    throw new TypeError(`Unexpected Redis reply: ${String(reply)}`);
  }
  return {
    key,
    holders: toInt(reply[1]),
    leases: reply.slice(2).map(toInt),
    waiters: toInt(reply[0]),
  };
}

/**
 * Shows a semaphore's state as `redis-lock status` prints it.
 *
 * @param status The state from `readSemaphoreStatus()`.
 * @returns Two lines, each ending with a newline.
 *
 * @example
 * ```ts
 * import { formatSemaphoreStatus } from "./semaphore_status.ts";
 *
 * console.log(formatSemaphoreStatus({ key: "sem:{x}:holders", holders: 1, leases: [5_000], waiters: 0 }));
 * ```
 */
export function formatSemaphoreStatus(status: SemaphoreStatus): string {
  const leases = status.leases.slice(0, 5).map((ms) => `${ms} ms`).join(", ");
  const more = status.holders > 5 ? ", ..." : "";
  const holders = status.holders === 0
    ? "none"
    : `${status.holders} holder${status.holders === 1 ? "" : "s"} (leases left: ${leases}${more})`;
  return [
    `semaphore:      ${holders} (key ${status.key})`,
    `sem. waiting:   ${status.waiters} waiter${status.waiters === 1 ? "" : "s"}`,
    "",
  ].join("\n");
}
