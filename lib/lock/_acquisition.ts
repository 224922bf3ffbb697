/**
 * One `acquire()` call from token to outcome: makes the token, bounds the
 * attempts, lets the lock's wait strategy run, and when the lock is not kept
 * (gave up, failed, aborted) leaves the fair queue and hands on a lock taken
 * at that very moment, or by an attempt whose answer never came.
 *
 * @module
 */

import type { RedisDriver } from "../redis/driver.ts";
import type { AttemptResult, HolderOps } from "../redis/_lock_ops.ts";
import { acquisitionToken } from "../redis/_token.ts";
import type { WaitRequest } from "../wait/_request.ts";
import { BoundedAttempts } from "./_attempts.ts";
import { handOnLocal } from "../wait/_local_grants.ts";
import { now } from "../util/_runtime.ts";

/** What one acquisition needs to know. */
export interface AcquisitionSpec {
  readonly name: string;
  readonly ops: HolderOps;
  readonly driver: RedisDriver;
  readonly channel: string;
  readonly grants: string;
  /** Whether waiters race on the channel (see `WaitStrategy.racing`). */
  readonly racing: boolean;
  readonly ttl: number;
  readonly fencing: boolean;
  /** The identity its token carries ("" for none). */
  readonly who: string;
  readonly fair: boolean;
  readonly blocking: boolean;
  readonly timeout: number;
  readonly signal: AbortSignal | undefined;
}

/**
 * Runs one acquisition; `hold` is called with the token and result when the
 * lock was taken and the caller has not aborted meanwhile.
 * @returns true when held; false when not taken by the deadline.
 */
export async function acquisition(
  spec: AcquisitionSpec,
  wait: (request: WaitRequest) => Promise<AttemptResult>,
  hold: (token: string, result: AttemptResult) => void,
): Promise<boolean> {
  const { ops, driver, blocking, timeout, signal } = spec;
  const token = acquisitionToken(spec.ttl, spec.fencing, spec.who);
  const waits = blocking && timeout > 0;
  const join = spec.fair && waits; // failed attempts queue the waiter
  const mark = join || (spec.racing && waits); // …or mark the lock as raced
  const deadline = now() + (blocking ? timeout : 0);
  const attempts = new BoundedAttempts({
    name: spec.name,
    run: () => ops.attempt(token, mark),
    release: () => ops.release(token).then(handOnLocal),
    driver,
    deadline,
    signal,
  });
  let result: AttemptResult | undefined;
  let kept = false;
  try {
    result = await wait({
      attempt: () => attempts.next(),
      token,
      deadline,
      signal,
      channel: spec.channel,
      grants: spec.grants,
      driver,
    });
    if (!result.acquired) return false;
    if (signal?.aborted) throw signal.reason;
    hold(token, result);
    kept = true;
    return true;
  } finally {
    if (!kept && (join || result?.acquired || attempts.uncertain)) {
      // A hand-off that reached this waiter as it gave up goes on from here.
      await attempts.settle(ops.release(token).then(handOnLocal));
    }
  }
}
