/**
 * No key outlives its live members by a departed member's longer deadline:
 * callers of one name may pass different `handoffTimeout`s and `ttl`s, and
 * a holder may shorten its own lease with `extend()`. A waiter that gives
 * up re-aims the queue's expiry at the waiters left; a renewal re-aims the
 * holders' expiry at the latest lease left. Neither re-aim may cut a live
 * member short: a waiter keeps its place, a holder its hold.
 */

import assert from "node:assert/strict";
import { RedisLock, RedisReadWriteLock, RedisSemaphore } from "../mod.ts";
import type { LockClient } from "../mod.ts";
import { lockKeys } from "../lib/redis/_keys.ts";
import { semaphoreKeys } from "../lib/redis/_semaphore_keys.ts";
import { readWriteKeys } from "../lib/redis/_rw_keys.ts";
import { clientKind } from "./harness/clients.ts";
import {
  type ClientKind,
  liveMembers,
  queuedIn,
  redisNow,
  type TestEnv,
  until,
} from "./harness/env.ts";
import { startChild } from "./harness/process.ts";
import { eachKind } from "./harness/fault_modes.ts";

/** What the tests need of a holder of any primitive. */
interface Holder {
  lock(): Promise<unknown>;
  acquire(options: { signal?: AbortSignal; blockingTimeout?: number }): Promise<boolean>;
  release(): Promise<void>;
  extend(ms?: number): Promise<unknown>;
  owned(): Promise<boolean>;
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

/** `fn` on a fresh server, once per client family (the scripts are the same for all). */
const FAMILIES = ["node-redis v6 RESP3", "ioredis v5"].map(clientKind);
const eachFamily = (title: string, fn: (env: TestEnv, kind: ClientKind) => Promise<void>) =>
  eachKind(title, fn, FAMILIES);

for (const primitive of PRIMITIVES) {
  eachFamily(
    `${primitive.name}: a waiter that gives up leaves the queue key to the waiters behind it, not to its own liveness`,
    async (env, kind) => {
      const client = await env.client();
      const holder = primitive.make(client, {});
      await holder.lock();
      const patient = primitive.make(client, { handoffTimeout: 60_000 });
      const leave = new AbortController();
      const waiting = patient.acquire({ signal: leave.signal });
      await queuedIn(env.server, primitive.queue, 1); // the patient waiter
      const [fixture, ...args] = primitive.party;
      const dead = startChild(`fixtures/${fixture}`, [env.server.url, kind.name, ...args]);
      await queuedIn(env.server, primitive.queue, 2); // the short-lived one
      dead.process.kill("SIGKILL");
      await dead.exited;
      leave.abort(new Error("gave up"));
      await assert.rejects(waiting, /gave up/);
      const gone = async () => await env.server.command("EXISTS", primitive.queue) === 0;
      await until(gone, "no queue key once its last waiter's liveness is over", GONE_WITHIN);
      await holder.release();
      assert.equal(await env.server.command("DBSIZE"), 0);
    },
  );

  eachFamily(
    `${primitive.name}: a live waiter with a shorter liveness keeps its place when a longer one behind it gives up`,
    async (env) => {
      const client = await env.client();
      const holder = primitive.make(client, {});
      await holder.lock();
      const first = primitive.make(client, { handoffTimeout: 600 }); // refreshes every 200 ms
      const firstWaits = first.acquire({ blockingTimeout: 20_000 });
      await queuedIn(env.server, primitive.queue, 1);
      const entries = () =>
        env.server.command("ZRANGEBYSCORE", primitive.queue, "(0", "+inf", "WITHSCORES");
      const place = await entries();
      const patient = primitive.make(client, { handoffTimeout: 60_000 });
      const leave = new AbortController();
      const patientWaits = patient.acquire({ signal: leave.signal });
      await queuedIn(env.server, primitive.queue, 2);
      leave.abort(new Error("gave up")); // re-aims the expiry at the first's deadline
      await assert.rejects(patientWaits, /gave up/);
      // Past the expiry the leave aimed at (the first's deadline then, + 500 ms):
      // only the first's refreshes can have kept the key.
      const aimedAt = await redisNow(env.server) + 600 + 500;
      await until(async () => await redisNow(env.server) > aimedAt + 200, "past the aimed expiry");
      assert.deepEqual(await entries(), place, "the first waiter is still queued, in its place");
      await holder.release();
      assert.equal(await firstWaits, true);
      await first.release();
      await until(async () => await env.server.command("DBSIZE") === 0, "no key left");
    },
  );

  const sides = primitive.name === "read-write lock" ? ["read", "write"] as const : [undefined];
  for (const side of sides) {
    const who = side ? `${side} lock` : primitive.name;
    eachFamily(`${who}: a lease shortened by extend() leaves no key past its end`, async (env) => {
      const holder = primitive.make(await env.client(), { ttl: 60_000, autoExtend: false }, side);
      await holder.lock();
      await holder.extend(300); // then "dies": never renews, never releases
      const gone = async () => await env.server.command("DBSIZE") === 0;
      await until(gone, "no key once the shortened lease is over", GONE_WITHIN);
    });
  }
}

/** The semaphore (limit 2) and the read lock: holders with leases of their own in one key. */
const SHARED = [
  {
    who: "semaphore",
    key: semaphoreKeys("job").holders,
    primitive: PRIMITIVES[1],
    side: undefined,
  },
  { who: "read lock", key: readWriteKeys("job").readers, primitive: PRIMITIVES[2], side: "read" },
] as const;

for (const { who, key, primitive, side } of SHARED) {
  eachFamily(
    `${who}: a holder that shortens its lease does not cut another's longer one`,
    async (env) => {
      const client = await env.client();
      const limit = side ? {} : { limit: 2 };
      const long = primitive.make(client, { ttl: 60_000, ...limit }, side);
      const short = primitive.make(client, { ttl: 60_000, autoExtend: false, ...limit }, side);
      await long.lock();
      await short.lock();
      await short.extend(300); // re-aims the key's expiry at the latest lease: the long one's
      const aimedAt = await redisNow(env.server) + 300 + 500;
      await until(
        async () => await redisNow(env.server) > aimedAt + 200,
        "past the short lease + slack",
      );
      assert.equal(await long.owned(), true, "the longer lease still holds");
      assert.equal(await liveMembers(env.server, key), 1);
      assert.ok(Number(await env.server.command("PTTL", key)) > 50_000, "the key lives with it");
      await long.release();
    },
  );
}
