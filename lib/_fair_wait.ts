/**
 * Fair mode's wait: the waiter is queued in Redis by its first failed
 * attempt, sleeps on Pub/Sub, and owns the lock as soon as a release's
 * hand-off message names its token: no race and no second round trip.
 *
 * Every sleep is bounded: by the holder's remaining lease (a dead holder),
 * by a third of the hand-off timeout or ttl, whichever is shorter (the waiter refreshes its place in the
 * queue, and finds a hand-off whose message was lost), and by the deadline.
 *
 * @module
 */

import type { AttemptResult, WaitRequest } from "./options.ts";
import { now } from "./_runtime.ts";
import { SubscriberManager } from "./subscriber_manager.ts";
import { Waiter } from "./_waiter.ts";
import { registerLocal, unregisterLocal } from "./_local_grants.ts";

/**
 * Waits in fair mode. The caller leaves the queue (and hands on a lock
 * handed over meanwhile) when this returns without the lock or throws.
 */
export async function waitFair(
  request: WaitRequest,
  refresh: number,
): Promise<AttemptResult> {
  const { attempt, deadline, signal, channel } = request;
  const manager = SubscriberManager.for(request.driver);
  const waiter = new Waiter(request.token);
  registerLocal(waiter); // before any attempt that can queue it
  // Every attempt that can queue the waiter comes after its subscription is
  // confirmed, so a hand-off is never missed. The subscription comes first
  // when the channel is already subscribed (free) or this lock was contended
  // here a moment ago (it will likely wait: the attempt then costs one
  // request, not two); otherwise the first attempt may just take the lock.
  // A live channel's subscription is confirmed already: nothing to wait for.
  const live = manager.isLive(channel);
  let subscribed = live || manager.recentlyJoined(channel)
    ? manager.join(channel, waiter)
    : undefined;
  let result: AttemptResult | undefined;
  try {
    if (subscribed && !live) await waiter.until(subscribed, deadline - now(), signal);
    result = await attempt();
    if (result.acquired || now() >= deadline) return result;
    if (!subscribed) {
      subscribed = manager.join(channel, waiter);
      await waiter.until(subscribed, deadline - now(), signal);
      result = await attempt();
    }
    for (;;) {
      const grant = waiter.grant;
      if (grant) {
        // The lease is timed from the last attempt that found the lock not
        // ours: Redis ran it before the hand-off, so the local deadline comes
        // no later than the key's expiry (the message's delay is unknown).
        const { fence, lease } = grant;
        return result = { acquired: true, value: fence, sentAt: result.sentAt, granted: lease };
      }
      const left = deadline - now();
      if (result.acquired || left <= 0) return result;
      const lease = result.value >= 0 ? Math.max(1, result.value) : Infinity;
      const woken = await waiter.sleep(Math.min(left, lease, refresh / 3), signal);
      if (!woken || !waiter.grant) result = await attempt();
    }
  } finally {
    unregisterLocal(waiter);
    const left = manager.leave(channel, waiter, result?.acquired);
    if (!result?.acquired) await request.settle(left);
  }
}
