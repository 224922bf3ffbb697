/**
 * The Redis keys and channel of one lock. All of them share one hash tag, so
 * they fall into one Redis Cluster slot whatever the name holds.
 *
 * @module
 */

/** The keys and channel of one lock. */
export interface LockKeys {
  /** The lock itself: a string holding the owner's token, with a TTL. */
  readonly key: string;
  /** The fencing counter (only written when fencing is on). */
  readonly fence: string;
  /** Fair mode's queue: a sorted set of waiter tokens by arrival time. */
  readonly queue: string;
  /** Fair mode's liveness deadlines: a sorted set of waiter tokens by deadline (Redis ms). */
  readonly alive: string;
  /** The Pub/Sub channel on which releases and hand-offs are announced. */
  readonly channel: string;
}

/**
 * `%`, `{` and `}` are percent-encoded, so the encoded name holds no brace: the
 * hash tag is always exactly the encoded name, and the encoding is one-to-one,
 * so two names never share a key.
 */
export function encodeName(name: string): string {
  return name.replace(/[%{}]/g, (c) => c === "%" ? "%25" : c === "{" ? "%7B" : "%7D");
}

/** The keys of the lock called `name`. */
export function lockKeys(name: string): LockKeys {
  const base = `lock:{${encodeName(name)}}`;
  return {
    key: base,
    fence: `${base}:fence`,
    queue: `${base}:queue`,
    alive: `${base}:alive`,
    channel: `${base}:wake`,
  };
}
