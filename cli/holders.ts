/**
 * Who holds a lock and who waits for it, as `redis-lock status` shows them:
 * each holder's identity, age and lease left, and the queue in order with
 * each waiter's identity and wait, read with the library's `inspect()`.
 *
 * @module
 */

import type { HolderIdentity, LockInspection } from "@x/redis-lock";
import { formatDuration } from "./duration.ts";

/**
 * One holder or waiter in a few words: `pid 4121 on worker-3 (node 22.11.0)
 * "job 17"`; `unknown (identity: false)` when it recorded nothing.
 *
 * @param identity What it recorded.
 * @returns A short description.
 *
 * @example
 * ```ts
 * import { describeIdentity } from "./holders.ts";
 *
 * console.log(describeIdentity({ host: "vm", pid: 12, runtime: "deno 2.1.4", label: "x" }));
 * // pid 12 on vm (deno 2.1.4) "x"
 * ```
 */
export function describeIdentity(identity: HolderIdentity | undefined): string {
  if (!identity) return "unknown (identity: false)";
  const who = [
    identity.pid === undefined ? "pid ?" : `pid ${identity.pid}`,
    identity.host === undefined ? "" : `on ${identity.host}`,
    identity.runtime === undefined ? "" : `(${identity.runtime})`,
    identity.label === undefined ? "" : JSON.stringify(identity.label),
  ];
  return who.filter((part) => part !== "").join(" ");
}

/**
 * The holder and queue lines of `redis-lock status` for one lock.
 *
 * @param state What `RedisLock.inspect()` read.
 * @returns The holder lines and the queue lines, each line ending with a
 *   newline ("" when nobody holds, or nobody waits).
 *
 * @example
 * ```ts
 * import { formatHolders } from "./holders.ts";
 *
 * const { holders, queue } = formatHolders({
 *   name: "job",
 *   time: 0,
 *   holders: [{ token: "t", identity: { pid: 7 }, age: 9_000, leaseLeft: 21_000 }],
 *   waiters: [{ token: "u", identity: { pid: 8 }, waited: 1_500 }],
 * });
 * console.log(holders + queue);
 * ```
 */
export function formatHolders(state: LockInspection): { holders: string; queue: string } {
  const holders = state.holders.map((h) => {
    const age = h.age === undefined ? "" : `, held ${formatDuration(h.age)}`;
    const left = h.leaseLeft < 0 ? "no expiry" : `${formatDuration(h.leaseLeft)} left`;
    return `holder:         ${describeIdentity(h.identity)}${age}, ${left}\n`;
  });
  const queue = state.waiters.map((w, i) => {
    const head = i === 0 ? "queue:          " : "                ";
    const waited = formatDuration(w.waited);
    return `${head}${i + 1}. ${describeIdentity(w.identity)}, waiting ${waited}\n`;
  });
  return { holders: holders.join(""), queue: queue.join("") };
}
