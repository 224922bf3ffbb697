/**
 * The race mode's wait (`RedisLock` with `fair: false`): attempt; subscribe
 * and wait for the confirmation; attempt again; sleep until a release wakes
 * the waiter, the holder's lease ends, or the re-check interval passes.
 *
 * @module
 */

import type { AttemptResult } from "../redis/_lock_ops.ts";
import type { WaitRequest } from "./_request.ts";
import { now } from "../util/_runtime.ts";
import { SubscriberManager } from "./subscriber_manager.ts";
import { Waiter } from "./_waiter.ts";

/**
 * The longest a Pub/Sub waiter sleeps without checking the lock again: a
 * bound for a wake-up lost while the subscriber reconnects, for a
 * subscription not confirmed yet, or for a key without TTL. Expiry is found
 * sooner: the sleep is bounded by the holder's remaining lease.
 */
export const RECHECK_INTERVAL_MS = 2_000;

/**
 * Waits for `subscribed` (a {@linkcode SubscriberManager.join}), but no
 * longer than `bound` ms or the deadline: a stalled subscriber connection
 * must not keep a waiter from checking the lock. When the confirmation comes
 * later, the waiter is woken then to check again (a release may have been
 * missed until then). Rejects when the subscription failed for good or
 * `signal` aborts.
 */
export async function confirmed(
  waiter: Waiter,
  subscribed: Promise<void>,
  request: Pick<WaitRequest, "deadline" | "signal">,
  bound: number = RECHECK_INTERVAL_MS,
): Promise<void> {
  const { deadline, signal } = request;
  const left = Math.min(deadline - now(), bound);
  if (await waiter.until(subscribed, left, signal)) return;
  subscribed.then(() => waiter.notify(), () => waiter.notify());
}

/** See the module doc. The caller releases by token if this throws. */
export async function waitOnPubSub(request: WaitRequest): Promise<AttemptResult> {
  const { attempt, deadline, signal, channel } = request;
  let result = await attempt();
  if (result.acquired || now() >= deadline) return result;
  const manager = SubscriberManager.for(request.driver);
  const waiter = new Waiter();
  try {
    // Subscribed (and confirmed) before the next attempt: a release between
    // the failed attempt and the subscription cannot be missed.
    await confirmed(waiter, manager.join(channel, waiter), request);
    for (;;) {
      result = await attempt();
      const left = deadline - now();
      if (result.acquired || left <= 0) return result;
      // Only the oldest waiter of this process is woken by a release; it
      // passes the wake-up on when it leaves.
      const head = manager.isHead(channel, waiter);
      await waiter.sleep(head ? headSleep(result, left) : left, signal);
    }
  } finally {
    manager.leave(channel, waiter);
  }
}

/** The head waiter sleeps until the holder's lease ends, the re-check, or the deadline. */
function headSleep(result: AttemptResult, left: number): number {
  const lease = result.value >= 0 ? Math.max(1, result.value) : RECHECK_INTERVAL_MS;
  return Math.min(lease, RECHECK_INTERVAL_MS, left);
}
