/**
 * Fair mode's wait: the waiter is queued in Redis by its first failed
 * attempt, sleeps on Pub/Sub, and takes the lock when a release's hand-off
 * names it: no race, and no second round trip in the usual case.
 *
 * A hand-off message is trusted only when nothing this process has heard
 * since can contradict it: it must name the queue entry of the latest
 * answer this waiter received, with no attempt in flight (so Redis made the
 * hand-off after that answer, and no later answer has come), and the lease
 * it leaves — timed from that answer's attempt, which Redis ran before the
 * hand-off — must still have a third to run. Otherwise one more attempt
 * decides: it finds the key holding this waiter's token if the hand-off
 * still stands. So a message delayed past its hand-off's lease (a paused
 * process, a stalled command connection) never makes a second holder.
 *
 * Every sleep is bounded: by the holder's remaining lease (a dead holder),
 * by a third of the hand-off timeout or ttl, whichever is shorter (the
 * waiter refreshes its place in the queue, and finds a hand-off whose
 * message was lost), and by the deadline.
 *
 * @module
 */

import type { AttemptResult } from "../redis/_lock_ops.ts";
import type { WaitRequest } from "./_request.ts";
import { now } from "../util/_runtime.ts";
import { SubscriberManager } from "./subscriber_manager.ts";
import { Waiter } from "./_waiter.ts";
import { registerLocal, unregisterLocal } from "./_local_grants.ts";
import { confirmed } from "./_pubsub_wait.ts";

/**
 * Waits in fair mode. The caller leaves the queue (and hands on a lock
 * handed over meanwhile) when this returns without the lock or throws.
 * @param refresh The shorter of the hand-off timeout and the ttl, in ms.
 */
export async function waitFair(request: WaitRequest, refresh: number): Promise<AttemptResult> {
  const { attempt, deadline, signal } = request;
  const channel = request.grants;
  const manager = SubscriberManager.for(request.driver);
  const waiter = new Waiter(request.token);
  registerLocal(waiter); // before any attempt that can queue it
  // Every attempt that can queue the waiter comes after its subscription is
  // confirmed (or its re-check bound), so a hand-off is never missed for
  // long. The subscription comes first when the channel is already
  // subscribed (free) or this lock was contended here a moment ago (it will
  // likely wait: the attempt then costs one request, not two); otherwise the
  // first attempt may just take the lock.
  const live = manager.isLive(channel);
  let subscribed = live || manager.recentlyJoined(channel)
    ? manager.join(channel, waiter)
    : undefined;
  let result: AttemptResult | undefined;
  try {
    // A queued waiter must refresh its place every third of `refresh`: it
    // waits no longer than that for a subscription to be confirmed.
    const bound = refresh / 3;
    if (subscribed && !live) await confirmed(waiter, subscribed, request, bound);
    result = await attempt();
    if (result.acquired || now() >= deadline) return result;
    if (!subscribed) {
      subscribed = manager.join(channel, waiter);
      await confirmed(waiter, subscribed, request, bound);
      result = await attempt();
    }
    for (;;) {
      if (result.acquired) return result;
      const handed = takeGrant(waiter, result);
      if (handed === "doubt") {
        // Past the deadline, the caller's release by token hands on a
        // hand-off that still stands.
        if (now() >= deadline) return result;
        result = await attempt();
        continue;
      }
      if (handed) return result = handed;
      const left = deadline - now();
      if (left <= 0) return result;
      const lease = result.value >= 0 ? Math.max(1, result.value) : Infinity;
      const woken = await waiter.sleep(Math.min(left, lease, bound), signal);
      if (!woken || !waiter.grant) result = await attempt();
    }
  } finally {
    unregisterLocal(waiter);
    manager.leave(channel, waiter, result?.acquired);
  }
}

/**
 * The hand-off received by `waiter`, judged against `latest`, the latest
 * answer it received (no attempt is in flight): the lock, when the hand-off
 * can be trusted (see the module doc); "doubt" when a message came that
 * cannot (stale, or too late to use): one more attempt decides; undefined
 * when none came.
 */
function takeGrant(waiter: Waiter, latest: AttemptResult): AttemptResult | "doubt" | undefined {
  const grant = waiter.grant;
  if (!grant) return undefined;
  waiter.grant = undefined;
  if (grant.entry !== latest.entry) return "doubt";
  if (latest.sentAt + grant.lease - now() < grant.lease / 3) return "doubt";
  return { acquired: true, value: grant.fence, sentAt: latest.sentAt, granted: grant.lease };
}
