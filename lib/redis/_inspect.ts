/**
 * `inspect()`'s Redis side: one read-only script over a primitive's keys
 * (`_inspect_scripts.ts`), its reply turned into a {@linkcode LockInspection}.
 *
 * @module
 */

import type { RedisDriver } from "./driver.ts";
import type { LockHolderInfo, LockInspection, LockWaiterInfo } from "./inspection.ts";
import { lockKeys } from "./_keys.ts";
import { semaphoreKeys } from "./_semaphore_keys.ts";
import { readWriteKeys } from "./_rw_keys.ts";
import { LOCK_INSPECT, RW_INSPECT, SEM_INSPECT } from "./_inspect_scripts.ts";
import { runScript, toInt } from "./_script_runner.ts";
import { readToken, type TokenFacts } from "./_token.ts";

/** Which primitive's keys to read. */
export type PrimitiveKind = "lock" | "semaphore" | "rwlock";

const MODES: Record<string, "read" | "write" | undefined> = { r: "read", w: "write" };

function text(reply: unknown): string {
  if (typeof reply === "string") return reply;
  if (reply instanceof Uint8Array) return new TextDecoder().decode(reply);
  return reply === null || reply === undefined ? "" : String(reply);
}

/**
 * When a holder's hold began, in Redis ms: as its first renewal recorded it
 * (`since`), else estimated from its token and lease. A lease not renewed
 * yet was set at the start of the hold to the token's ttl, so the hold began
 * `ttl - leaseLeft` ago; that is exact for an acquisition and too early for
 * a hand-off (whose first lease is shorter, and which renews within a third
 * of it), so the later of it and the start of `acquire()` (the holder's
 * clock, in the token; ignored when later than Redis's now) is taken: off
 * by as much as the holder's clock runs ahead of Redis's, until the first
 * renewal. Undefined without an identity.
 */
function holdStart(
  facts: TokenFacts,
  since: string,
  leaseLeft: number,
  now: number,
): number | undefined {
  if (facts.identity === undefined) return undefined;
  const recorded = parseInt(since, 10);
  if (Number.isFinite(recorded)) return recorded;
  // The holder's clock: ignored when ahead of Redis's (it cannot have begun later than now).
  let start = facts.startedAt !== undefined && facts.startedAt <= now ? facts.startedAt : -Infinity;
  if (facts.ttl !== undefined && leaseLeft >= 0) {
    start = Math.max(start, now - Math.max(0, facts.ttl - leaseLeft));
  }
  return Number.isFinite(start) ? Math.min(start, now) : undefined;
}

function holder(fields: unknown[], fence: string, now: number): LockHolderInfo {
  const token = text(fields[0]);
  const facts = readToken(token);
  const leaseLeft = toInt(fields[1]);
  const at = holdStart(facts, text(fields[2]), leaseLeft, now);
  const mode = MODES[text(fields[3])];
  const fenced = facts.fencing && fence !== "";
  return {
    token,
    ...(facts.identity && { identity: facts.identity }),
    ...(at !== undefined && { acquiredAt: at, age: Math.max(0, now - at) }),
    leaseLeft,
    ...(fenced && { fencingToken: Number(fence) }),
    ...(mode && { mode }),
  };
}

function waiter(fields: unknown[]): LockWaiterInfo {
  const token = text(fields[0]);
  const identity = readToken(token).identity;
  const mode = MODES[text(fields[3])];
  return {
    token,
    ...(identity && { identity }),
    waited: toInt(fields[1]),
    ...(mode && { mode }),
  };
}

/** Reads who holds and who waits for the primitive of `kind` called `name`. */
export async function inspectKeys(
  driver: RedisDriver,
  kind: PrimitiveKind,
  name: string,
  prefix: string | undefined,
  max: number,
): Promise<LockInspection> {
  let reply: unknown;
  if (kind === "lock") {
    const { key, fence, queue, who } = lockKeys(name, prefix);
    reply = await runScript(driver, LOCK_INSPECT, [key, fence, queue, who], [`${max}`, "0"]);
  } else if (kind === "semaphore") {
    const { holders, queue, who } = semaphoreKeys(name, prefix);
    reply = await runScript(driver, SEM_INSPECT, [holders, queue, who], [`${max}`, "0"]);
  } else {
    const { writer, readers, fence, queue, who } = readWriteKeys(name, prefix);
    const keys = [writer, readers, fence, queue, who];
    reply = await runScript(driver, RW_INSPECT, keys, [`${max}`, "1"]);
  }
  if (!Array.isArray(reply) || reply.length < 3) {
    throw new TypeError(`Unexpected Redis reply: ${String(reply)}`);
  }
  const time = toInt(reply[0]);
  const fence = text(reply[1]);
  const count = toInt(reply[2]);
  const holders: LockHolderInfo[] = [];
  const waiters: LockWaiterInfo[] = [];
  for (let i = 3; i + 3 < reply.length; i += 4) {
    const fields = reply.slice(i, i + 4);
    if (holders.length < count) holders.push(holder(fields, fence, time));
    else waiters.push(waiter(fields));
  }
  return { name, time, holders, waiters };
}
