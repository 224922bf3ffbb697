/**
 * What the client adapters share: the script commands built from one raw
 * `send`, which client errors are worth sending an attempt again for, and a
 * time bound on a reply.
 *
 * @module
 */

import type { RedisDriver } from "../redis/driver.ts";
import { LockError } from "../lock/errors.ts";
import { unrefTimer } from "../util/_runtime.ts";

/** `evalsha` and `eval` over a client's raw command call. */
export function scriptCommands(
  send: (args: string[]) => Promise<unknown>,
): Pick<RedisDriver, "evalsha" | "eval"> {
  const script = (command: string, body: string, keys: string[], args: string[]) =>
    send([command, body, `${keys.length}`, ...keys, ...args]);
  return {
    evalsha: (sha, keys, args) => script("EVALSHA", sha, keys, args),
    eval: (source, keys, args) => script("EVAL", source, keys, args),
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
  if (!(err instanceof Error) || err instanceof LockError) return false;
  if (err instanceof TypeError || err instanceof RangeError) return false;
  if (RETRY_REPLY.test(err.message)) return true;
  return clientOpen && !REPLY.test(err.message);
}

/**
 * Settles like `op`, or rejects when it has not within `ms` (a Pub/Sub
 * confirmation, say) with an error "`what` within `ms` ms".
 */
export function within(op: Promise<unknown>, ms: number, what = "no reply"): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise((_, reject) => {
    timer = unrefTimer(setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms));
  });
  return Promise.race([op, late]).finally(() => clearTimeout(timer));
}
