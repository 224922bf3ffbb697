/**
 * The read-write lock's fencing rule at its edge, and `locked()` while a
 * waiter is queued with nobody holding (both found by review, issue 18).
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { RedisReadWriteLock } from "../mod.ts";
import { readWriteKeys } from "../lib/redis/_rw_keys.ts";
import { ReadWriteOps } from "../lib/redis/_rw_ops.ts";
import { acquisitionToken } from "../lib/redis/_token.ts";
import { resolveDriver } from "../lib/clients/lock_client.ts";
import { eachClient, queuedIn, redisNow, type TestEnv, testEnv } from "./harness/env.ts";

const KEYS = readWriteKeys("rw");

eachClient(
  "rwlock: fencing: a writer that gives up as the lock is handed to it still counts as the last write acquisition",
  async (env) => {
    const options = { fencing: true, handoffTimeout: 10_000 };
    const rw = (client: Awaited<ReturnType<TestEnv["client"]>>) =>
      new RedisReadWriteLock(client, "rw", options);
    const w1 = await rw(await env.client()).writeLock().lock();
    const t1 = w1.fencingToken!;
    const giveUp = new AbortController();
    const w2 = rw(await env.client()).writeLock();
    const writing = w2.acquire({ signal: giveUp.signal, blockingTimeout: 10_000 })
      .then(() => w2.held, () => false);
    await queuedIn(env.server, KEYS.queue, 1);
    const reader = rw(await env.client()).readLock();
    const reading = reader.acquire({ blockingTimeout: 10_000 });
    await queuedIn(env.server, KEYS.queue, 2);
    const released = w1.release(); // hands the lock to w2 (a new token)...
    giveUp.abort(new Error("gave up")); // ...as w2 gives up
    await released;
    if (await writing) await w2.release(); // w2 took it up after all: the plain case
    assert.equal(await reading, true);
    const counter = Number(await env.server.command("GET", KEYS.fence));
    // Whichever came first in Redis (w2 leaving, or the hand-off to w2), the
    // reader's token is the last write acquisition's: w1's, or w2's unused one.
    assert.ok(counter >= t1);
    assert.equal(reader.fencingToken, counter, "the reader sees the last write acquisition's");
    await reader.release();
    const w3 = await rw(await env.client()).writeLock().lock();
    assert.ok(w3.fencingToken! > counter, "the next write's is larger still");
    await w3.release();
  },
);

test("rwlock: a writer's locked() is true while a live waiter is queued and nobody holds", async () => {
  const env = await testEnv();
  try {
    const rw = new RedisReadWriteLock(await env.client(), "rw");
    // What a crashed reader leaves while the writer queued behind it sleeps
    // until that lease's end: nobody holds, a live writer heads the queue
    // (entry: 2 × arrival µs + 1; liveness: minus its deadline in ms).
    const now = await redisNow(env.server);
    const entry = now * 2_000 + 1;
    const deadline = -(now + 10_000);
    await env.server.command("ZADD", KEYS.queue, `${entry}`, "other", `${deadline}`, "!other");
    const writer = rw.writeLock();
    assert.equal(await writer.locked(), true);
    assert.equal(await writer.acquire({ blocking: false }), false, "and indeed it cannot enter");
    await env.server.command("DEL", KEYS.queue);
    assert.equal(await writer.locked(), false, "nobody holds or waits");
  } finally {
    await env.close();
  }
});

eachClient(
  "rwlock: fencing: a writer re-confirming its hold gets its own token, or a larger one once the counter was lost",
  async (env) => {
    // A re-confirming attempt is what a writer sends when it doubts a
    // hand-off's message or its first answer was lost: the same token again.
    const config = { ttl: 30_000, fencing: true, handoffTimeout: 3_000 };
    const ops = new ReadWriteOps(resolveDriver(await env.client()), KEYS, config, "w");
    const token = acquisitionToken(config.ttl, true, "");
    const first = await ops.attempt(token, false);
    assert.equal(first.acquired, true);
    const again = await ops.attempt(token, false);
    assert.deepEqual([again.acquired, again.value], [true, first.value], "one token per hold");
    await env.server.command("DEL", KEYS.fence); // evicted, or deleted by hand
    const lost = await ops.attempt(token, false);
    assert.equal(lost.acquired, true);
    assert.ok(lost.value > first.value, `${lost.value} after ${first.value}`);
    assert.deepEqual(await ops.release(token), { result: "freed" });
  },
);
