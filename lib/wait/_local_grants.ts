/**
 * Fair hand-offs between a releaser and a waiter of this very process (of
 * this copy of the module): the release script names the waiter in its reply
 * instead of publishing, and the releaser delivers the grant here. This saves
 * the Pub/Sub message, its fan-out to every subscribed connection, and the
 * subscriber's dispatch.
 *
 * A waiter's token carries the module's local mark (`lib/redis/_token.ts`);
 * the releaser passes the same mark to the script, so only a releaser sharing
 * the registry below can skip the message. A reply that never arrives (the connection dropped after
 * the script ran) is a lost hand-off message: the waiter finds the lock its
 * own at its next refresh, as for a lost Pub/Sub message.
 *
 * @module
 */

import type { ReleaseOutcome } from "../redis/_lock_ops.ts";
import type { Grant, Waiter } from "./_waiter.ts";

const waiters = new Map<string, Waiter>();

/** Makes `waiter` (whose token must be set) reachable by local releases. */
export function registerLocal(waiter: Waiter): void {
  waiters.set(waiter.token!, waiter);
}

/** Removes `waiter`; a later local hand-off to its token finds nobody. */
export function unregisterLocal(waiter: Waiter): void {
  if (waiters.get(waiter.token!) === waiter) waiters.delete(waiter.token!);
}

/**
 * Delivers a hand-off made by a local release. Nobody to deliver to means the
 * waiter has just left: its leaving release hands the lock on.
 */
export function deliverLocal(token: string, grant: Grant): void {
  waiters.get(token)?.granted(grant);
}

/**
 * Delivers the local hand-off a release made, if it made one: every release
 * by token (a holder's, a leaving waiter's, a late attempt's clean-up) must
 * pass it on, or the waiter finds the lock only at its next refresh.
 */
export function handOnLocal(outcome: ReleaseOutcome): ReleaseOutcome {
  if (outcome.result === "handed" && outcome.local) {
    const { token, ...grant } = outcome.local;
    deliverLocal(token, grant);
  }
  return outcome;
}
