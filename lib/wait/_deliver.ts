/**
 * What a Pub/Sub message does to the waiters of its channel.
 *
 * @module
 */

import type { Waiter } from "./_waiter.ts";

/**
 * Hands `payload` to `waiters` (one channel's, in arrival order). A `grant`
 * goes to the fair waiter it names (none here: it is another process's, or
 * the waiter has left). Anything else (`released`, or a reconnection, which
 * lost the messages meanwhile) wakes a race-mode channel's head only, which
 * passes the wake-up on when it leaves; on a process's hand-off channel it
 * can only be a forced release or a reconnection, so every fair waiter
 * checks the lock.
 */
export function deliver(waiters: readonly Waiter[] | undefined, payload: string): void {
  if (!waiters?.length) return;
  if (!payload.startsWith("grant ")) {
    if (!waiters[0].token) return waiters[0].notify();
    for (const waiter of waiters) waiter.notify();
    return;
  }
  const [, token, fence, lease, entry] = payload.split(" ");
  const waiter = waiters.find((w) => w.token === token);
  waiter?.granted({ fence: Number(fence), lease: Number(lease), entry: Number(entry) });
}
