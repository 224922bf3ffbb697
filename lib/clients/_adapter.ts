/**
 * What the client adapters share: the script commands built from one raw
 * `send`, which client errors are worth sending an attempt again for, and a
 * time bound on a reply.
 *
 * @module
 */

import type { RedisDriver } from "../redis/driver.ts";

/** `[command, body, numkeys, ...keys, ...args]`, built without spreading. */
export function scriptArgs(
  command: string,
  body: string,
  keys: string[],
  args: string[],
): string[] {
  const all = [command, body, `${keys.length}`];
  for (let i = 0; i < keys.length; i++) all.push(keys[i]);
  for (let i = 0; i < args.length; i++) all.push(args[i]);
  return all;
}

/** `evalsha` and `eval` over a client's raw command call. */
export function scriptCommands(
  send: (args: string[]) => Promise<unknown>,
): Pick<RedisDriver, "evalsha" | "eval"> {
  return {
    evalsha: (sha, keys, args) => send(scriptArgs("EVALSHA", sha, keys, args)),
    eval: (source, keys, args) => send(scriptArgs("EVAL", source, keys, args)),
  };
}

// Redis answers that mean "not now": the server is loading, busy with a
// script, or a cluster is moving a slot or electing a master.
const RETRY_REPLY = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY)\b/;
// Any other Redis error reply ("ERR …", "NOPERM …", "WRONGTYPE …") is final.
const REPLY = /^[A-Z][A-Z_]+\b/;

/**
 * Whether a command that failed with `err` may succeed if sent again: Redis
 * said "not now", or the connection failed while the client is still open
 * (it reconnects). Never for an error reply, a closed client or a bug.
 */
export function isTransientError(err: unknown, clientOpen: boolean): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof TypeError || err instanceof RangeError) return false;
  if (RETRY_REPLY.test(err.message)) return true;
  return clientOpen && !REPLY.test(err.message);
}

/**
 * Whether `value` is an object with a function for each of `methods`: the
 * first half of every adapter's client-shape check.
 */
export function hasMethods(value: unknown, methods: readonly string[]): value is object {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return methods.every((name) => typeof record[name] === "function");
}
