import assert from "node:assert/strict";
import {
  LockError,
  LockNotOwnedError,
  RedisLock,
  RedisReadWriteLock,
  RedisSemaphore,
} from "../mod.ts";
import { eachClient, queuedIn } from "./harness/env.ts";
import { readWriteKeys } from "../lib/redis/_rw_keys.ts";
import { sleepingOn, tracked } from "./harness/fault_modes.ts";

const KEYS = readWriteKeys("rw");

eachClient(
  "rwlock: fencing: writes take larger tokens, readers see the last write's",
  async (env) => {
    const rw = new RedisReadWriteLock(await env.client(), "rw", { fencing: true });
    const before = await rw.readLock().lock();
    assert.equal(before.fencingToken, 0, "no write yet");
    await before.release();
    const w1 = await rw.writeLock().lock();
    const t1 = w1.fencingToken!;
    assert.ok(t1 > 0);
    // A reader queued behind the writer gets the token by hand-off.
    const queuedReader = rw.readLock();
    const reading = queuedReader.lock({ blockingTimeout: 10_000 });
    await queuedIn(env.server, KEYS.queue, 1);
    await w1.release();
    await reading;
    assert.equal(queuedReader.fencingToken, t1);
    const direct = await rw.readLock().lock();
    assert.equal(direct.fencingToken, t1);
    const w2 = rw.writeLock();
    const writing = w2.lock({ blockingTimeout: 10_000 });
    await queuedIn(env.server, KEYS.queue, 1);
    await queuedReader.release();
    await direct.release();
    await writing; // by hand-off from the last reader
    assert.ok(w2.fencingToken! > t1);
    await w2.release();
    const after = await rw.readLock().lock();
    assert.equal(after.fencingToken, w2.fencingToken);
    await after.release();
    assert.equal(await rw.readLock().acquire({ blocking: false }), true);
    const plain = new RedisReadWriteLock(await env.client(), "rw2").readLock();
    await plain.lock();
    assert.equal(plain.fencingToken, undefined, "no fencing: undefined");
  },
);

eachClient("rwlock: bad input throws like the lock's", async (env) => {
  const client = await env.client();
  assert.throws(() => new RedisReadWriteLock(client, ""), RangeError);
  assert.throws(() => new RedisReadWriteLock(client, 5 as unknown as string), TypeError);
  assert.throws(() => new RedisReadWriteLock({} as never, "rw"), TypeError);
  assert.throws(
    () => new RedisReadWriteLock(client, "rw", { fair: true } as never),
    /unknown option "fair"/,
  );
  assert.throws(() => new RedisReadWriteLock(client, "rw", { ttl: -1 }), /options\.ttl/);
  assert.throws(() => new RedisReadWriteLock(client, "rw", { fencing: 1 as never }), TypeError);
  const rw = new RedisReadWriteLock(client, "rw", { ttl: 5_000, handoffTimeout: 1_000 });
  assert.equal(rw.ttl, 5_000);
  assert.equal(rw.handoffTimeout, 1_000);
  const reader = rw.readLock();
  await assert.rejects(reader.acquire({ blockingTimeout: -5 }), RangeError);
  await assert.rejects(reader.acquire({ sleepTime: 5 } as never), TypeError);
  await assert.rejects(reader.release(), LockNotOwnedError);
  await assert.rejects(reader.extend(), LockNotOwnedError);
  await assert.rejects(reader.run(5 as never), TypeError);
  await reader.lock();
  await assert.rejects(reader.acquire(), LockError, "one holder object is one holder");
  await assert.rejects(reader.extend(0), RangeError);
  await reader.release();
  assert.equal(reader.mode, "read");
  assert.equal(rw.writeLock().mode, "write");
});

eachClient("rwlock: timed-out and aborted waiters leave no trace", async (env) => {
  const rw = new RedisReadWriteLock(await env.client(), "rw");
  const writer = await rw.writeLock().lock();
  assert.equal(await rw.readLock().acquire({ blockingTimeout: 100 }), false);
  assert.equal(await rw.writeLock().acquire({ blockingTimeout: 100 }), false);
  const controller = new AbortController();
  const waiting = rw.readLock().acquire({ signal: controller.signal });
  await queuedIn(env.server, KEYS.queue, 1);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, /stop/);
  assert.equal(await env.server.command("EXISTS", KEYS.queue), 0);
  await writer.release();
  assert.equal(await env.server.command("DBSIZE"), 0);
});

eachClient(
  "rwlock: a queued writer that gives up lets every reader behind it in at once, up to the next writer",
  async (env) => {
    const options = { handoffTimeout: 10_000 };
    const rw = new RedisReadWriteLock(await env.client(), "rw", options);
    const reader = await rw.readLock().lock();
    const controller = new AbortController();
    const writing = rw.writeLock().acquire({ signal: controller.signal });
    await queuedIn(env.server, KEYS.queue, 1);
    const drivers = [tracked(await env.client()), tracked(await env.client())];
    const late = drivers.map((d) => new RedisReadWriteLock(d, "rw", options).readLock());
    const reading: Promise<boolean>[] = [];
    for (const [i, r] of late.entries()) {
      reading.push(r.acquire({ blockingTimeout: 10_000 }));
      await queuedIn(env.server, KEYS.queue, 2 + i);
    }
    const next = rw.writeLock();
    const nextWriting = next.acquire({ blockingTimeout: 10_000 });
    await queuedIn(env.server, KEYS.queue, 4);
    await sleepingOn(drivers, 2, KEYS.grants);
    const sent = drivers.map((d) => d.sent);
    const aborted = performance.now();
    controller.abort(new Error("gave up"));
    await assert.rejects(writing, /gave up/);
    // The leaving writer's script admitted both readers in one step.
    assert.equal(Number(await env.server.command("ZCARD", KEYS.readers)), 3);
    assert.deepEqual(await Promise.all(reading), [true, true]);
    assert.ok(performance.now() - aborted < 1_000, "handed on at the writer's leaving");
    assert.deepEqual(drivers.map((d) => d.sent), sent, "admitted by message: no attempt");
    assert.equal(next.held, false, "the next writer still waits");
    for (const r of [...late, reader]) await r.release();
    assert.equal(await nextWriting, true);
    await next.release();
    assert.equal(await env.server.command("DBSIZE"), 0);
  },
);

eachClient(
  "rwlock: a holder that stops renewing frees the lock at its lease's end",
  async (env) => {
    const rw = new RedisReadWriteLock(await env.client(), "rw", { ttl: 300, autoExtend: false });
    const reader = await rw.readLock().lock();
    const writer = rw.writeLock();
    const start = performance.now();
    assert.equal(await writer.acquire({ blockingTimeout: 5_000 }), true);
    const waited = performance.now() - start;
    assert.ok(waited < 300 + 500, `freed after ${waited.toFixed(0)} ms`);
    assert.equal(reader.held, false);
    await writer.release();
  },
);

eachClient(
  "rwlock: a read-write lock, a lock and a semaphore of one name are independent",
  async (env) => {
    const client = await env.client();
    const lock = await new RedisLock(client, "rw").lock();
    const permit = await new RedisSemaphore(client, "rw", { limit: 1 }).lock();
    const writer = await new RedisReadWriteLock(client, "rw").writeLock().lock();
    assert.equal(await writer.owned(), true);
    await writer.release();
    await permit.release();
    await lock.release();
    assert.equal(await env.server.command("DBSIZE"), 0);
  },
);

eachClient(
  "rwlock: extend and remaining work for both sides; await using releases",
  async (env) => {
    const rw = new RedisReadWriteLock(await env.client(), "rw", { ttl: 10_000 });
    for (const holder of [rw.readLock(), rw.writeLock()]) {
      {
        await using held = await holder.lock();
        await held.extend(60_000);
        const left = await held.remaining();
        assert.ok(left > 50_000 && left <= 60_000, `${holder.mode}: ${left}`);
      }
      assert.equal(holder.held, false);
      assert.equal(await holder.remaining(), 0);
    }
    assert.equal(await env.server.command("DBSIZE"), 0);
  },
);
