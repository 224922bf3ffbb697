/**
 * Runs a {@linkcode Script} with EVALSHA, falling back to EVAL when the
 * server does not know it yet (NOSCRIPT), which also loads it.
 *
 * @module
 */

import type { RedisDriver } from "./driver.ts";
import { sha1Hex } from "../util/_runtime.ts";
import type { Script } from "./_scripts.ts";

// The SHA of each script once known, read synchronously on the hot path.
// The first runs of a script wait for its digest, all on one promise, and
// the SHA is published only once the last of them has gone out: runs go out
// in the order they were called (separate digests, which Deno computes off
// the main thread, could finish in any order and reorder attempts made
// together; a SHA published earlier would let a later run overtake).
const shas = new WeakMap<Script, string>();
const pending = new WeakMap<Script, { digest: Promise<string>; waiting: number }>();

function afterDigest(script: Script, run: (sha: string) => Promise<unknown>): Promise<unknown> {
  let entry = pending.get(script);
  if (entry === undefined) {
    const digest = sha1Hex(script.source);
    entry = { digest, waiting: 0 };
    pending.set(script, entry);
    digest.catch(() => pending.delete(script)); // a later run tries again
  }
  const mine = entry;
  mine.waiting++;
  return mine.digest.then((sha) => {
    if (--mine.waiting === 0) {
      shas.set(script, sha);
      pending.delete(script);
    }
    return run(sha);
  }, (err) => {
    mine.waiting--;
    throw err;
  });
}

function isNoScript(err: unknown): boolean {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === "string" && message.startsWith("NOSCRIPT");
}

/** Runs `script` on `driver` and returns its raw reply. */
export function runScript(
  driver: RedisDriver,
  script: Script,
  keys: string[],
  args: string[],
): Promise<unknown> {
  const sha = shas.get(script);
  if (sha === undefined) return afterDigest(script, (s) => evalsha(driver, script, s, keys, args));
  return evalsha(driver, script, sha, keys, args);
}

// One promise layer over the driver's: EVALSHA, and EVAL only after NOSCRIPT.
function evalsha(
  driver: RedisDriver,
  script: Script,
  sha: string,
  keys: string[],
  args: string[],
): Promise<unknown> {
  const fallback = (err: unknown) => {
    if (!isNoScript(err)) throw err;
    return driver.eval(script.source, keys, args);
  };
  try {
    return driver.evalsha(sha, keys, args).catch(fallback);
  } catch (err) {
    return Promise.reject(err); // a driver that throws instead of rejecting
  }
}

/** Reads an integer reply (number, bigint or numeric string) as a number. */
export function toInt(reply: unknown): number {
  const n = typeof reply === "number" ? reply : Number(reply);
  if (!Number.isInteger(n)) throw new TypeError(`Unexpected Redis reply: ${String(reply)}`);
  return n;
}
