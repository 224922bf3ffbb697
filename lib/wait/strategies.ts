/**
 * The wait strategies the public locks choose from: Pub/Sub (fair queue or
 * race) and polling.
 *
 * @module
 */

import { waitFair } from "./_fair_wait.ts";
import { waitOnPubSub } from "./_pubsub_wait.ts";
import type { WaitStrategy } from "./_request.ts";
import { waitBySpinning } from "./_spin_wait.ts";

/** The lock settings a strategy depends on. */
export interface StrategySettings {
  readonly fair: boolean;
  readonly ttl: number;
  readonly handoffTimeout: number;
}

/**
 * How often a fair waiter refreshes its place: every third of the shorter of
 * the hand-off timeout and the ttl (a hand-off's lease is timed from it).
 */
function refreshOf(settings: StrategySettings): number {
  return Math.min(settings.handoffTimeout, settings.ttl);
}

/** `RedisLock`'s: sleep on Pub/Sub, in the fair queue or racing. */
export function pubSubWaits(settings: StrategySettings): WaitStrategy {
  if (!settings.fair) return { wait: waitOnPubSub, racing: true };
  const refresh = refreshOf(settings);
  return { wait: (request) => waitFair(request, refresh) };
}

/**
 * `RedisSpinLock`'s: poll every `sleepTime` ms; a fair spin waiter polls at
 * least every third of its refresh, whatever `sleepTime` says, since each
 * attempt refreshes its place in the queue and takes up a hand-off to it.
 */
export function spinWaits(settings: StrategySettings, sleepTime: number): WaitStrategy {
  const poll = settings.fair ? Math.min(sleepTime, refreshOf(settings) / 3) : sleepTime;
  return { wait: (request) => waitBySpinning(request, poll) };
}
