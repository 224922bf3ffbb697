/**
 * The Redis keys and channels of one read-write lock. They share one hash
 * tag with each other (one Cluster slot), and their prefix, `rwlock:`,
 * differs from the lock's `lock:`, so a lock and a read-write lock of the
 * same name never touch each other's keys.
 *
 * @module
 */

import { encodeName } from "./_keys.ts";
import { MARK } from "./_token.ts";

/** The keys and channels of one read-write lock. */
export interface ReadWriteKeys {
  /** The writer: a string holding the writer's token, with a PX lease. */
  readonly writer: string;
  /** The readers: a sorted set, each reader's token scored by its lease deadline (Redis ms). */
  readonly readers: string;
  /** The fencing counter (only written when fencing is on; never expires). */
  readonly fence: string;
  /**
   * The queue, in the lock's format (token scored by its entry id, `!token`
   * by minus its liveness deadline); the entry id's parity is the waiter's
   * mode: odd for a writer, even for a reader.
   */
  readonly queue: string;
  /** The lock's channel; hand-offs go to `<channel>:<mark>`. */
  readonly channel: string;
  /** This process's hand-off channel, `<channel>:<mark>`. */
  readonly grants: string;
  /** Where a holder's renewal records when its hold began (see `LockKeys.who`). */
  readonly who: string;
}

/** The keys of the read-write lock called `name`, after the `prefix` option. */
export function readWriteKeys(name: string, prefix = ""): ReadWriteKeys {
  const base = `${prefix}rwlock:{${encodeName(name)}}`;
  return {
    writer: `${base}:writer`,
    readers: `${base}:readers`,
    fence: `${base}:fence`,
    queue: `${base}:queue`,
    channel: `${base}:wake`,
    grants: `${base}:wake:${MARK}`,
    who: `${base}:who:`,
  };
}
