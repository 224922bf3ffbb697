/**
 * Runs a {@linkcode Script} with EVALSHA, falling back to EVAL when the
 * server does not know it yet (NOSCRIPT), which also loads it.
 *
 * @module
 */

import type { RedisDriver } from "./driver.ts";
import { sha1Hex } from "../util/_runtime.ts";
import type { Script } from "./_scripts.ts";

const shas = new WeakMap<Script, Promise<string>>();

function shaOf(script: Script): Promise<string> {
  let sha = shas.get(script);
  if (!sha) shas.set(script, sha = sha1Hex(script.source));
  return sha;
}

function isNoScript(err: unknown): boolean {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === "string" && message.startsWith("NOSCRIPT");
}

/** Runs `script` on `driver` and returns its raw reply. */
export async function runScript(
  driver: RedisDriver,
  script: Script,
  keys: string[],
  args: string[],
): Promise<unknown> {
  try {
    return await driver.evalsha(await shaOf(script), keys, args);
  } catch (err) {
    if (!isNoScript(err)) throw err;
    return await driver.eval(script.source, keys, args);
  }
}

/** Reads an integer reply (number, bigint or numeric string) as a number. */
export function toInt(reply: unknown): number {
  const n = typeof reply === "number" ? reply : Number(reply);
  if (!Number.isInteger(n)) throw new TypeError(`Unexpected Redis reply: ${String(reply)}`);
  return n;
}
