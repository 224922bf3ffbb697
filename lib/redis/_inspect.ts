/**
 * `inspect()`'s Redis side: one read-only script over a primitive's keys
 * (`_inspect_scripts.ts`), its reply turned into a {@linkcode LockInspection}.
 *
 * @module
 */

import type { RedisDriver } from "./driver.ts";
import type {
  HolderIdentity,
  LockHolderInfo,
  LockInspection,
  LockWaiterInfo,
} from "./inspection.ts";
import { lockKeys } from "./_keys.ts";
import { semaphoreKeys } from "./_semaphore_keys.ts";
import { readWriteKeys } from "./_rw_keys.ts";
import { LOCK_INSPECT, RW_INSPECT, SEM_INSPECT } from "./_inspect_scripts.ts";
import { runScript, toInt } from "./_script_runner.ts";

/** Which primitive's keys to read. */
export type PrimitiveKind = "lock" | "semaphore" | "rwlock";

const MODES: Record<string, "read" | "write" | undefined> = { r: "read", w: "write" };

function text(reply: unknown): string {
  if (typeof reply === "string") return reply;
  if (reply instanceof Uint8Array) return new TextDecoder().decode(reply);
  return reply === null || reply === undefined ? "" : String(reply);
}

/** A record `<acquired at> <identity JSON>`: its two parts (none when unreadable). */
export function readRecord(record: string): { at: number; identity: HolderIdentity } | undefined {
  const space = record.indexOf(" ");
  if (space < 0) return undefined;
  try {
    const identity = JSON.parse(record.slice(space + 1));
    if (typeof identity !== "object" || identity === null) return undefined;
    return { at: Number(record.slice(0, space)), identity };
  } catch {
    return undefined;
  }
}

function holder(fields: unknown[], fence: string, now: number): LockHolderInfo {
  const token = text(fields[0]);
  const record = readRecord(text(fields[2]));
  const mode = MODES[text(fields[3])];
  const fenced = token.endsWith("#f") && fence !== "";
  return {
    token,
    ...(record && { identity: record.identity }),
    ...(record && record.at > 0 && { acquiredAt: record.at, age: Math.max(0, now - record.at) }),
    leaseLeft: toInt(fields[1]),
    ...(fenced && { fencingToken: Number(fence) }),
    ...(mode && { mode }),
  };
}

function waiter(fields: unknown[]): LockWaiterInfo {
  const record = readRecord(text(fields[2]));
  const mode = MODES[text(fields[3])];
  return {
    token: text(fields[0]),
    ...(record && { identity: record.identity }),
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
