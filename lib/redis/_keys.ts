/**
 * The Redis keys and channels of one lock. All of them share one hash tag, so
 * they fall into one Redis Cluster slot whatever the name holds.
 *
 * @module
 */

import { MARK } from "./_token.ts";

/** The keys and channel of one lock. */
export interface LockKeys {
  /** The lock itself: a string holding the owner's token, with a TTL. */
  readonly key: string;
  /** The fencing counter (only written when fencing is on). */
  readonly fence: string;
  /**
   * Fair mode's queue, one sorted set for order and liveness: each waiter's
   * token scored by its entry id (arrival, Redis µs: > 0), and `!<token>`
   * scored by minus its liveness deadline (Redis ms: < 0).
   */
  readonly queue: string;
  /**
   * Set (with a short TTL) while race-mode waiters may sleep on
   * {@linkcode LockKeys.channel}: a release publishes `released` only then.
   */
  readonly racers: string;
  /** The Pub/Sub channel on which releases are announced to race-mode waiters. */
  readonly channel: string;
  /**
   * This process's hand-off channel: `<channel>:<mark>`, where a release
   * publishes the hand-offs to this process's fair waiters (the mark is in
   * their tokens), so a hand-off reaches one process, not every waiting one.
   */
  readonly grants: string;
  /**
   * Where a holder's first renewal records when its hold began:
   * `<who><token>` holds Redis ms and expires with the lease (who it is, is
   * in the token itself: `_token.ts`).
   */
  readonly who: string;
}

/**
 * `%`, `{` and `}` are percent-encoded, so the encoded name holds no brace: the
 * hash tag is always exactly the encoded name, and the encoding is one-to-one,
 * so two names never share a key.
 */
export function encodeName(name: string): string {
  return name.replace(/[%{}]/g, (c) => c === "%" ? "%25" : c === "{" ? "%7B" : "%7D");
}

/** The default start of a lock's keys (the `prefix` option). */
export const LOCK_PREFIX = "lock:";

/** The keys of the lock called `name`, its keys starting with `prefix`. */
export function lockKeys(name: string, prefix: string = LOCK_PREFIX): LockKeys {
  const base = `${prefix}{${encodeName(name)}}`;
  return {
    key: base,
    fence: `${base}:fence`,
    queue: `${base}:queue`,
    racers: `${base}:racers`,
    channel: `${base}:wake`,
    grants: `${base}:wake:${MARK}`,
    who: `${base}:who:`,
  };
}
