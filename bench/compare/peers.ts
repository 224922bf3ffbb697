/**
 * The peer locks of the comparison: node-redlock (single instance),
 * redis-semaphore's `Mutex` and redlock-universal, each as a
 * {@linkcode LockSpec}.
 *
 * Peers keep their own defaults in the "defaults" entries. The tuned entries
 * retry every 5 ms and give up after about 10 s (redis-semaphore's default
 * `acquireTimeout`), so that every run ends even when a lock is stuck: a
 * give-up is a failed attempt, not a hang.
 *
 * @module
 */

import type { Redis } from "ioredis";
import RedlockModule from "redlock";
import { Mutex } from "redis-semaphore";
import {
  createLock,
  LockAcquisitionError,
  type LockHandle,
  NodeRedisAdapter,
} from "redlock-universal";
import { ioRedis, nodeRedis } from "./clients.ts";
import type { LockSpec } from "./locks.ts";

/** Lease of the peers' locks in ms: the same as `RedisLock`'s default ttl. */
const TTL_MS = 30_000;
/** The tuned entries' retry delay, ms. */
export const TUNED_DELAY_MS = 5;
/** The tuned entries' retries: about 10 s in all. */
export const TUNED_RETRIES = 10_000 / TUNED_DELAY_MS;

/** node-redlock 4.2.0 has no typings: the slice of it used here. */
interface Redlock {
  lock(resource: string, ttl: number): Promise<{ unlock(): Promise<unknown> }>;
  on(event: "clientError", listener: (err: unknown) => void): unknown;
}
const Redlock = RedlockModule as unknown as
  & (new (clients: Redis[], options?: Record<string, number>) => Redlock)
  & { LockError: new () => Error };

export function redlock(id: string, label: string, options?: Record<string, number>): LockSpec {
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

export function semaphore(id: string, label: string, retryInterval?: number): LockSpec {
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

export function universal(id: string, label: string, retryDelay?: number): LockSpec {
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
