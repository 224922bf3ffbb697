/**
 * The Redis keys and channels of one semaphore. They share one hash tag (one
 * Redis Cluster slot), and their prefix, `sem:`, differs from the lock's, so a
 * semaphore and a lock of the same name never share a key.
 *
 * @module
 */

import { encodeName } from "./_keys.ts";
import { MARK } from "./_token.ts";

/** The keys and channels of one semaphore. */
export interface SemaphoreKeys {
  /**
   * The holders: a sorted set of holder tokens, each scored by the end of its
   * lease (Redis ms). A holder whose score has passed holds nothing.
   */
  readonly holders: string;
  /** The fair queue, in the lock's format (see `LockKeys.queue`). */
  readonly queue: string;
  /** Set (with a short TTL) while race-mode waiters may sleep on the channel. */
  readonly racers: string;
  /** The channel on which releases are announced to race-mode waiters. */
  readonly channel: string;
  /** This process's hand-off channel: `<channel>:<mark>`. */
  readonly grants: string;
  /** Where a holder's renewal records when its hold began (see `LockKeys.who`). */
  readonly who: string;
}

/** The keys of the semaphore called `name`, after the `prefix` option. */
export function semaphoreKeys(name: string, prefix = ""): SemaphoreKeys {
  const base = `${prefix}sem:{${encodeName(name)}}`;
  return {
    holders: `${base}:holders`,
    queue: `${base}:queue`,
    racers: `${base}:racers`,
    channel: `${base}:wake`,
    grants: `${base}:wake:${MARK}`,
    who: `${base}:who:`,
  };
}
