/**
 * The options that say where a primitive's keys live and what its holders
 * record about themselves there; every primitive takes them.
 *
 * @module
 */

/**
 * Where a primitive's keys live (`prefix`), and what its holders and fair
 * waiters tell about themselves in their tokens (`identity`, `label`), for
 * `inspect()` and `redis-lock status` to show.
 *
 * @example A labelled holder of another application's lock
 * ```ts
 * import type { RecordOptions } from "@x/redis-lock";
 *
 * const options: RecordOptions = { prefix: "billing:", label: "invoice-run 2024-06" };
 * ```
 */
export interface RecordOptions {
  /**
   * A label carried with this holder's identity (a job id, a request id),
   * shown by `inspect()` and `redis-lock status`. At most 200 characters (a
   * lone surrogate, as a label cut inside an emoji has, is shown as U+FFFD).
   * @default {undefined}
   */
  label?: string;
  /**
   * Tell who holds (host name, process id, runtime, when it was acquired,
   * and `label`) and who waits in fair mode's queue, in the token Redis
   * keeps anyway (no extra Redis command); a holder's first renewal records
   * when its hold began. `false` records nothing: no host name is written
   * to Redis. The host name is recorded only where it can be read without a
   * permission prompt (on Deno: with `--allow-sys` granted).
   * @default {true}
   */
  identity?: boolean;
  /**
   * The start of every Redis key and channel name of this primitive, so that
   * several applications can share one Redis without name clashes. A lock's
   * keys are `<prefix>{<name>}…`, a semaphore's `<prefix>sem:{<name>}…`, a
   * read-write lock's `<prefix>rwlock:{<name>}…`. It must not contain `{` or
   * `}` (the name is always the hash tag); every instance of one name must
   * use the same prefix. At most 200 characters.
   * @default {"lock:" for RedisLock and RedisSpinLock, "" for RedisSemaphore and RedisReadWriteLock}
   */
  prefix?: string;
}
