/**
 * No key outlives its live members by a departed member's longer deadline:
 * callers of one name may pass different `handoffTimeout`s and `ttl`s, and
 * a holder may shorten its own lease with `extend()`. A waiter that gives
 * up re-aims the queue's expiry at the waiters left; a renewal re-aims the
 * holders' expiry at the latest lease left.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { RedisLock, RedisReadWriteLock, RedisSemaphore } from "../mod.ts";
import type { LockClient } from "../mod.ts";
import { lockKeys } from "../lib/redis/_keys.ts";
import { semaphoreKeys } from "../lib/redis/_semaphore_keys.ts";
import { readWriteKeys } from "../lib/redis/_rw_keys.ts";
import { clientKind } from "./harness/clients.ts";
import { testEnv, until } from "./harness/env.ts";
import { startChild } from "./harness/process.ts";

/** What the tests need of a holder of any primitive. */
interface Holder {
  lock(): Promise<unknown>;
  acquire(options: { signal?: AbortSignal; blockingTimeout?: number }): Promise<boolean>;
  release(): Promise<void>;
  extend(ms?: number): Promise<unknown>;
}

interface Primitive {
  readonly name: string;
  /** Its queue key, and the key its holders' leases are kept in. */
  readonly queue: string;
  /** A holder on `client`; `side` picks a read-write lock's side. */
  make(client: LockClient, options: object, side?: "read" | "write"): Holder;
  /** A child process that queues with a 300 ms liveness: fixture and arguments after url, kind. */
  readonly party: readonly string[];
}

const PRIMITIVES: readonly Primitive[] = [
  {
    name: "lock",
    queue: lockKeys("job").queue,
    make: (client, options) => new RedisLock(client, "job", options),
    party: ["fair_party.ts", "job", "wait", "30000", "300", "0"],
  },
  {
    name: "semaphore",
    queue: semaphoreKeys("job").queue,
    make: (client, options) => new RedisSemaphore(client, "job", { limit: 1, ...options }),
    party: ["sem_party.ts", "job", "1", "30000", "300", "wait", "/dev/null"],
  },
  {
    name: "read-write lock",
    queue: readWriteKeys("job").queue,
    make: (client, options, side = "write") => {
      const rw = new RedisReadWriteLock(client, "job", options);
      return side === "read" ? rw.readLock() : rw.writeLock();
    },
    party: ["rw_holder.ts", "job", "queue-write", "30000", "300"],
  },
];

/** Longest a key may outlive a 300 ms deadline: the deadline, the 500 ms slack, a margin. */
const GONE_WITHIN = 300 + 500 + 700;

for (const kind of ["node-redis v6 RESP3", "ioredis v5"].map(clientKind)) {
  for (const primitive of PRIMITIVES) {
    test(`${kind.name}: ${primitive.name}: a waiter that gives up leaves the queue key to the waiters behind it, not to its own liveness`, async () => {
      const env = await testEnv(kind);
      try {
        const client = await env.client();
        const holder = primitive.make(client, {});
        await holder.lock();
        const patient = primitive.make(client, { handoffTimeout: 60_000 });
        const leave = new AbortController();
        const waiting = patient.acquire({ signal: leave.signal });
        const length = async () =>
          Number(await env.server.command("ZCOUNT", primitive.queue, "(0", "+inf"));
        await until(async () => await length() === 1, "the patient waiter queued");
        const [fixture, ...args] = primitive.party;
        const dead = startChild(`fixtures/${fixture}`, [env.server.url, kind.name, ...args]);
        await until(async () => await length() === 2, "the short-lived waiter queued");
        dead.process.kill("SIGKILL");
        await dead.exited;
        leave.abort(new Error("gave up"));
        await assert.rejects(waiting, /gave up/);
        const gone = async () => await env.server.command("EXISTS", primitive.queue) === 0;
        await until(gone, "no queue key once its last waiter's liveness is over", GONE_WITHIN);
        await holder.release();
        assert.equal(await env.server.command("DBSIZE"), 0);
      } finally {
        await env.close();
      }
    });

    for (
      const side of primitive.name === "read-write lock" ? ["read", "write"] as const : [undefined]
    ) {
      const who = side ? `${side} lock` : primitive.name;
      test(`${kind.name}: ${who}: a lease shortened by extend() leaves no key past its end`, async () => {
        const env = await testEnv(kind);
        try {
          const holder = primitive.make(
            await env.client(),
            { ttl: 60_000, autoExtend: false },
            side,
          );
          await holder.lock();
          await holder.extend(300); // then "dies": never renews, never releases
          const gone = async () => await env.server.command("DBSIZE") === 0;
          await until(gone, "no key once the shortened lease is over", GONE_WITHIN);
        } finally {
          await env.close();
        }
      });
    }
  }
}
