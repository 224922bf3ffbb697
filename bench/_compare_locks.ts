/**
 * The locks `compare.ts` measures, each behind one small interface: a
 * contender is one client connection with one lock instance on it.
 *
 * Peers keep their own defaults in the "defaults" entries. The tuned entries
 * retry every 5 ms and give up after about 10 s (redis-semaphore's default
 * `acquireTimeout`), so that every run ends even when a lock is stuck: a
 * give-up is a failed attempt, not a hang.
 *
 * @module
 */

import { createClient } from "redis";
import { Redis } from "ioredis";
import RedlockModule from "redlock";
import { Mutex } from "redis-semaphore";
import {
  createLock,
  LockAcquisitionError,
  type LockHandle,
  NodeRedisAdapter,
} from "redlock-universal";
import { type LockClient, RedisLock, RedisSpinLock } from "../mod.ts";

/** Either lock of this package. */
type AnyLock = RedisLock | RedisSpinLock;

/** Lease of the peers' locks in ms: the same as `RedisLock`'s default ttl. */
const TTL_MS = 30_000;
const TUNED_DELAY_MS = 5;
const TUNED_RETRIES = 10_000 / TUNED_DELAY_MS;

/** One contender: its own connection and its own lock instance. */
export interface Contender {
  /**
   * Resolves true when acquired and false for a failed attempt (the lock's
   * own timeout ran out). Rejects with `signal.reason` once aborted, for
   * the locks that take a signal; the others ignore it.
   */
  acquire(signal: AbortSignal): Promise<boolean>;
  release(): Promise<void>;
  close(): Promise<void>;
}

/** A lock under test. */
export interface LockSpec {
  /** Short stable id, used in the JSON output and by `--only`. */
  readonly id: string;
  readonly label: string;
  readonly client: "node-redis" | "ioredis";
  /** The options it runs with, for the report. */
  readonly settings: string;
  open(url: string, name: string): Promise<Contender>;
}

async function nodeRedis(url: string) {
  const client = createClient({ url });
  client.on("error", () => {});
  return await client.connect();
}

async function ioRedis(url: string): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true });
  client.on("error", () => {});
  await client.connect();
  return client;
}

function ours(
  id: string,
  label: string,
  settings: string,
  make: (client: LockClient, name: string) => AnyLock,
  acquire: (lock: AnyLock, signal: AbortSignal) => Promise<boolean>,
): LockSpec {
  return {
    id,
    label,
    client: "node-redis",
    settings,
    async open(url, name) {
      const client = await nodeRedis(url);
      const lock = make(client, name);
      return {
        acquire: (signal) => acquire(lock, signal),
        release: () => lock.release(),
        close: () => client.close(),
      };
    },
  };
}

function spin(sleepTime: number): LockSpec {
  return ours(
    `spin-${sleepTime}`,
    `RedisSpinLock sleepTime ${sleepTime}`,
    `acquire({ sleepTime: ${sleepTime} })`,
    (client, name) => new RedisSpinLock(client, name),
    (lock, signal) => (lock as RedisSpinLock).acquire({ signal, sleepTime }),
  );
}

/** node-redlock 4.2.0 has no typings: the slice of it used here. */
interface Redlock {
  lock(resource: string, ttl: number): Promise<{ unlock(): Promise<unknown> }>;
  on(event: "clientError", listener: (err: unknown) => void): unknown;
}
const Redlock = RedlockModule as unknown as
  & (new (clients: Redis[], options?: Record<string, number>) => Redlock)
  & { LockError: new () => Error };

function redlock(id: string, label: string, options?: Record<string, number>): LockSpec {
  return {
    id,
    label,
    client: "ioredis",
    settings: options ? JSON.stringify(options) : "retryCount 10, retryDelay 200, retryJitter 100",
    async open(url, name) {
      const client = await ioRedis(url);
      const lock = new Redlock([client], options);
      lock.on("clientError", () => {}); // errors also fail the attempt, counted as failed
      let held: { unlock(): Promise<unknown> } | undefined;
      return {
        async acquire() {
          try {
            held = await lock.lock(name, TTL_MS);
            return true;
          } catch (err) {
            if (err instanceof Redlock.LockError) return false;
            throw err;
          }
        },
        async release() {
          const h = held;
          held = undefined;
          await h?.unlock();
        },
        close: async () => void await client.quit(),
      };
    },
  };
}

function semaphore(id: string, label: string, retryInterval?: number): LockSpec {
  const options = retryInterval === undefined ? {} : { retryInterval, acquireTimeout: 10_000 };
  return {
    id,
    label,
    client: "ioredis",
    settings: retryInterval === undefined
      ? "retryInterval 10, acquireTimeout 10000, lockTimeout 10000"
      : `${JSON.stringify(options)}, lockTimeout 10000`,
    async open(url, name) {
      const client = await ioRedis(url);
      const mutex = new Mutex(client, name, options);
      return {
        acquire: (signal) => mutex.tryAcquire(signal),
        release: () => mutex.release(),
        close: async () => void await client.quit(),
      };
    },
  };
}

function universal(id: string, label: string, retryDelay?: number): LockSpec {
  const options = retryDelay === undefined ? {} : { retryDelay, retryAttempts: TUNED_RETRIES };
  return {
    id,
    label,
    client: "node-redis",
    settings: retryDelay === undefined
      ? "createLock(): retryAttempts 3, retryDelay 100, ttl 30000"
      : `createLock(${JSON.stringify(options)}), ttl 30000`,
    async open(url, name) {
      const client = await nodeRedis(url);
      const lock = createLock({ adapter: new NodeRedisAdapter(client), key: name, ...options });
      let held: LockHandle | undefined;
      return {
        async acquire() {
          try {
            held = await lock.acquire();
            return true;
          } catch (err) {
            if (err instanceof LockAcquisitionError) return false;
            throw err;
          }
        },
        async release() {
          const h = held;
          held = undefined;
          if (h) await lock.release(h);
        },
        close: () => client.close(),
      };
    },
  };
}

/** Every lock, in report order; the first is the baseline of the ratios. */
export const LOCKS: readonly LockSpec[] = [
  ours(
    "redislock",
    "RedisLock (fair, default)",
    "new RedisLock(client, name)",
    (client, name) => new RedisLock(client, name),
    (lock, signal) => lock.acquire({ signal }),
  ),
  ours(
    "redislock-race",
    "RedisLock fair: false",
    "new RedisLock(client, name, { fair: false })",
    (client, name) => new RedisLock(client, name, { fair: false }),
    (lock, signal) => lock.acquire({ signal }),
  ),
  spin(100),
  spin(TUNED_DELAY_MS),
  redlock("redlock", "redlock defaults"),
  redlock("redlock-5", "redlock retryDelay 5", {
    retryDelay: TUNED_DELAY_MS,
    retryJitter: 0,
    retryCount: TUNED_RETRIES,
  }),
  semaphore("semaphore", "redis-semaphore defaults"),
  semaphore("semaphore-5", "redis-semaphore retryInterval 5", TUNED_DELAY_MS),
  universal("universal", "redlock-universal defaults"),
  universal("universal-5", "redlock-universal retryDelay 5", TUNED_DELAY_MS),
];

/** The lock with this id. */
export function lockById(id: string): LockSpec {
  const spec = LOCKS.find((s) => s.id === id);
  if (!spec) throw new Error(`unknown lock id ${id}`);
  return spec;
}
