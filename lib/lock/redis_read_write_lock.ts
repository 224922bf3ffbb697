/**
 * `RedisReadWriteLock`: many readers or one writer, queued in arrival order.
 *
 * @module
 */

import type { LockClient } from "../clients/lock_client.ts";
import { toDriver } from "../redis/_drivers.ts";
import type { InspectOptions, LockInspection } from "../redis/inspection.ts";
import { inspectPrimitive } from "./_inspect.ts";
import { readWriteKeys } from "../redis/_rw_keys.ts";
import { type ReadWriteMode, ReadWriteOps } from "../redis/_rw_ops.ts";
import { pubSubWaits } from "../wait/strategies.ts";
import { LockCore, type Primitive } from "./_lock_core.ts";
import type { LockOptions, ReadWriteLockOptions } from "./options.ts";
import { RedisReadWriteHolder } from "./read_write_holder.ts";
import { checkName } from "./_validate.ts";
import { type LockSettings, lockSettings } from "./_settings.ts";

/** The options a read-write lock takes: the lock's but `fair` (always queued). */
const OPTION_KEYS = [
  "ttl",
  "blockingTimeout",
  "autoExtend",
  "fencing",
  "handoffTimeout",
  "label",
  "identity",
  "prefix",
];
const DEFAULTS: Partial<LockOptions> = { fair: true };

function side(mode: ReadWriteMode): Primitive {
  return {
    optionKeys: OPTION_KEYS,
    ops: (driver, name, settings) =>
      new ReadWriteOps(driver, readWriteKeys(name, settings.prefix), settings, mode),
  };
}
const READ = side("r");
const WRITE = side("w");

/**
 * A distributed read-write lock on Redis: any number of readers together,
 * or one writer alone, never both. Readers and writers wait in one queue in
 * arrival order: a reader that comes while a writer waits queues behind it,
 * and a writer's release admits every reader queued up to the next writer
 * in one step, so neither side starves the other. Waiters sleep on Pub/Sub
 * and are handed the lock by a release (the last reader's release wakes the
 * writer at once). Each holder has its own lease, so a crashed reader or
 * writer holds the others off for at most its `ttl`.
 *
 * `readLock()` and `writeLock()` return a new holder each, with
 * `RedisLock`'s API. A read-write lock, a lock and a semaphore of the same
 * name are independent. There is no upgrade from read to write: release the
 * read lock, then take the write lock (another writer may come between).
 *
 * @example Readers share, a writer is alone
 * ```ts
 * import { RedisReadWriteLock } from "@x/redis-lock";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient().connect();
 * const rw = new RedisReadWriteLock(client, "catalog");
 * {
 *   await using _r = await rw.readLock().lock(); // shared with other readers
 * }
 * await rw.writeLock().run(async (signal) => {
 *   console.log("alone", signal.aborted);
 * });
 * await client.close();
 * ```
 */
export class RedisReadWriteLock {
  readonly #client: LockClient;
  readonly #name: string;
  readonly #options: ReadWriteLockOptions | undefined;
  readonly #settings: LockSettings;

  /**
   * Who holds the read-write lock called `name` (identity, age, lease left, fencing token, mode) and
   * who waits in its queue, oldest first: one read-only script.
   * @param client A client as for the constructor.
   * @param name The read-write lock's name.
   * @param options See {@linkcode InspectOptions}.
   * @returns Its holders and live queued waiters.
   * @throws {TypeError} For a client that is not supported or a bad option.
   * @throws {RangeError} For an empty name or an out-of-range option.
   * @example Who holds it, since when, and who waits
   * ```ts
   * import { type LockClient, RedisReadWriteLock } from "@x/redis-lock";
   * declare const client: LockClient;
   *
   * const { holders, waiters } = await RedisReadWriteLock.inspect(client, "config");
   * console.log(holders[0]?.identity?.host, holders[0]?.age, waiters.length);
   * ```
   */
  static inspect(
    client: LockClient,
    name: string,
    options?: InspectOptions,
  ): Promise<LockInspection> {
    return inspectPrimitive("rwlock", client, name, options);
  }

  /**
   * Creates a read-write lock handle; nothing is sent to Redis until a
   * holder is used.
   * @param client A node-redis, ioredis or Bun client (or cluster client), or a {@linkcode RedisDriver}.
   * @param name The lock's name: any non-empty string.
   * @param options See {@linkcode ReadWriteLockOptions}.
   * @throws {TypeError} For a client that is not supported, an unknown option (`fair` too) or one of the wrong type.
   * @throws {RangeError} For an empty name or an out-of-range option.
   */
  constructor(client: LockClient, name: string, options?: ReadWriteLockOptions) {
    toDriver(client); // a client no adapter knows fails here, not at first use
    this.#name = checkName(name);
    this.#settings = lockSettings(options, DEFAULTS, OPTION_KEYS);
    this.#client = client;
    this.#options = options;
  }

  /** The lock's name. */
  get name(): string {
    return this.#name;
  }

  /** The lease length in ms of each holder. */
  get ttl(): number {
    return this.#settings.ttl;
  }

  /** The dead-waiter bound in ms (see {@linkcode LockOptions.handoffTimeout}). */
  get handoffTimeout(): number {
    return this.#settings.handoffTimeout;
  }

  /**
   * A new reader: shares the lock with other readers, never with a writer.
   * @returns A holder, not yet holding.
   */
  readLock(): RedisReadWriteHolder {
    return this.#holder(READ, "read");
  }

  /**
   * A new writer: holds the lock alone.
   * @returns A holder, not yet holding.
   */
  writeLock(): RedisReadWriteHolder {
    return this.#holder(WRITE, "write");
  }

  #holder(primitive: Primitive, mode: "read" | "write"): RedisReadWriteHolder {
    const core = new LockCore(this.#client, this.#name, this.#options, DEFAULTS, primitive);
    return new RedisReadWriteHolder(core, pubSubWaits(core.settings), mode);
  }
}
