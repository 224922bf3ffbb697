/**
 * What `inspect()` tells about a lock, a semaphore or a read-write lock:
 * who holds it, since when and for how long yet, and who waits, in order.
 *
 * @module
 */

/**
 * Who a holder or waiter is, as it recorded itself (see the `identity` and
 * `label` options). A field is missing where it was not available (no host
 * name without `--allow-sys` on Deno, or on Deno Deploy).
 *
 * @example
 * ```ts
 * import type { HolderIdentity } from "@x/redis-lock";
 *
 * const who: HolderIdentity = { host: "worker-3", pid: 4121, runtime: "node 22.11.0", label: "job 17" };
 * ```
 */
export interface HolderIdentity {
  /** The host name. */
  readonly host?: string;
  /** The process id. */
  readonly pid?: number;
  /** The runtime and its version, such as `deno 2.1.4`, `node 22.11.0`, `bun 1.2.0`. */
  readonly runtime?: string;
  /** The holder's `label` option. */
  readonly label?: string;
}

/**
 * One holder.
 *
 * @example
 * ```ts
 * import type { LockHolderInfo } from "@x/redis-lock";
 *
 * const holder: LockHolderInfo = { token: "…", leaseLeft: 21_000, age: 9_000, acquiredAt: 1_718_000_000_000 };
 * ```
 */
export interface LockHolderInfo {
  /** The holder's token (fresh for each acquisition). */
  readonly token: string;
  /** Who it is; missing when it records nothing (`identity: false`). */
  readonly identity?: HolderIdentity;
  /**
   * When it acquired, in Redis time (ms since the epoch); missing with no
   * identity. Exact once the holder has renewed (its first renewal records
   * it); before that, read from its lease, which is exact for a lock taken
   * directly and may include the wait of a holder that took it by a hand-off
   * (for at most a third of `handoffTimeout`, when it renews).
   */
  readonly acquiredAt?: number;
  /** How long it has held, in ms (Redis time); missing with no identity. */
  readonly age?: number;
  /** The lease left, in ms (-1: a key without expiry, not set by this library). */
  readonly leaseLeft: number;
  /** Its fencing token, when it asked for one (`fencing: true`). */
  readonly fencingToken?: number;
  /** A read-write lock's holder: a reader or the writer. */
  readonly mode?: "read" | "write";
}

/**
 * One waiter queued in Redis (fair mode; race-mode waiters are not queued).
 *
 * @example
 * ```ts
 * import type { LockWaiterInfo } from "@x/redis-lock";
 *
 * const waiter: LockWaiterInfo = { token: "…", waited: 1_250, identity: { pid: 77 } };
 * ```
 */
export interface LockWaiterInfo {
  /** The waiter's token. */
  readonly token: string;
  /** Who it is; missing when it records nothing. */
  readonly identity?: HolderIdentity;
  /** How long it has waited, in ms (Redis time). */
  readonly waited: number;
  /** A read-write lock's waiter: for reading or writing. */
  readonly mode?: "read" | "write";
}

/**
 * A lock's, semaphore's or read-write lock's state, read atomically.
 *
 * @example
 * ```ts
 * import type { LockInspection } from "@x/redis-lock";
 *
 * const state: LockInspection = { name: "job", time: 1_718_000_000_000, holders: [], waiters: [] };
 * ```
 */
export interface LockInspection {
  /** The name inspected. */
  readonly name: string;
  /** Redis time when it was read, in ms since the epoch. */
  readonly time: number;
  /** The holders (one at most for a lock; readers or a writer for a read-write lock). */
  readonly holders: readonly LockHolderInfo[];
  /** The live queued waiters, oldest first. */
  readonly waiters: readonly LockWaiterInfo[];
}

/**
 * Options of `inspect()`.
 *
 * @example Another application's lock, at most 10 waiters
 * ```ts
 * import type { InspectOptions } from "@x/redis-lock";
 *
 * const options: InspectOptions = { prefix: "billing:", maxWaiters: 10 };
 * ```
 */
export interface InspectOptions {
  /**
   * The `prefix` the primitive was made with.
   * @default {"lock:" for RedisLock, "" for RedisSemaphore and RedisReadWriteLock}
   */
  prefix?: string;
  /**
   * How many waiters to list at most (the oldest), and as many holders at
   * most of a semaphore or readers: a whole number from 0 to 10 000.
   * @default {1_000}
   */
  maxWaiters?: number;
}
