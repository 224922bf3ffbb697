/**
 * What the lock layer gives a wait strategy, and what a strategy is.
 *
 * @module
 */

import type { RedisDriver } from "../redis/driver.ts";
import type { AttemptResult } from "../redis/_lock_ops.ts";

/** One `acquire()` as a wait strategy sees it. */
export interface WaitRequest {
  /**
   * Makes one atomic attempt to take the lock. In fair mode a failed attempt
   * also joins the queue (or refreshes this waiter's place in it). It settles
   * by the deadline (plus a short grace) or the signal, even when Redis does
   * not answer, and is retried after a dropped connection.
   */
  attempt(): Promise<AttemptResult>;
  /** This acquisition's token (fair mode hands the lock over by token). */
  readonly token: string;
  /** When to give up, in `performance.now()` milliseconds (may be Infinity). */
  readonly deadline: number;
  /** The caller's cancellation signal. */
  readonly signal?: AbortSignal;
  /** The lock's Pub/Sub channel, on which releases are announced to race-mode waiters. */
  readonly channel: string;
  /** This process's hand-off channel for the lock, on which fair waiters are handed it. */
  readonly grants: string;
  /** The driver the lock talks to Redis through. */
  readonly driver: RedisDriver;
}

/** How a kind of lock waits, and what it does after a release. */
export interface WaitStrategy {
  /**
   * Attempts, sleeps, attempts again, until the lock is taken or the
   * deadline passes (with one last attempt then). Rejects with
   * `request.signal.reason` when aborted. The caller releases by token
   * (leaving a fair queue) when this does not return the lock.
   */
  wait(request: WaitRequest): Promise<AttemptResult>;
  /**
   * Whether waiters sleep on `request.channel` for a release: their failed
   * attempts then mark the lock as raced, so that a release announces itself.
   */
  readonly racing?: boolean;
}
