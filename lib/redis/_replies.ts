/**
 * What every primitive's scripts share on the wire: the hand-off arguments
 * their release scripts take (ARGV[1..5], read by `announce` and `grant_ms`
 * in `_lua.ts`), and how an attempt's and a release's replies read.
 *
 * @module
 */

import type { RedisDriver } from "./driver.ts";
import type { AttemptResult, ReleaseOutcome } from "./_lock_ops.ts";
import { toInt } from "./_script_runner.ts";
import { LOCAL_MARK } from "./_token.ts";

/**
 * ARGV[1..5] of a script that may hand on: the token, the channel, the
 * hand-off's length (ms), the publish command (`SPUBLISH` on a sharded
 * driver) and this process's local mark.
 */
export function handOffArgs(
  driver: RedisDriver,
  token: string,
  channel: string,
  handoffTimeout: number,
): string[] {
  const publish = driver.sharded ? "SPUBLISH" : "PUBLISH";
  return [token, channel, `${handoffTimeout}`, publish, LOCAL_MARK];
}

/**
 * An attempt's reply, `{1, fence}` or `{0, ms[, entry]}`, sent at `sentAt`
 * (`performance.now()` ms).
 */
export function attemptResult(reply: unknown, sentAt: number): AttemptResult {
  if (!Array.isArray(reply)) throw new TypeError(`Unexpected Redis reply: ${String(reply)}`);
  const acquired = toInt(reply[0]) === 1;
  // A queued waiter's answer names its queue entry: a hand-off names it too.
  if (reply.length < 3) return { acquired, value: toInt(reply[1]), sentAt };
  return { acquired, value: toInt(reply[1]), sentAt, entry: Number(reply[2]) };
}

/**
 * A release's reply: 0 not owned, 1 freed, 2 handed on by a message, or
 * `{1, token, fence, ms, entry}` handed to a waiter of this process.
 */
export function releaseOutcome(reply: unknown): ReleaseOutcome {
  if (!Array.isArray(reply)) {
    const n = toInt(reply);
    return { result: n === 2 ? "handed" : n === 1 ? "freed" : "not owned" };
  }
  const local = {
    token: String(reply[1]),
    fence: toInt(reply[2]),
    lease: toInt(reply[3]),
    entry: Number(reply[4]),
  };
  return { result: "handed", local };
}
