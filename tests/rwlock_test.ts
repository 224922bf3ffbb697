import assert from "node:assert/strict";
import { type RedisDriver, type RedisReadWriteHolder, RedisReadWriteLock } from "../mod.ts";
import { delay, eachClient, queuedIn, until } from "./harness/env.ts";
import { sleepingOn, tracked } from "./harness/fault_modes.ts";
import { readWriteKeys } from "../lib/redis/_rw_keys.ts";

const KEYS = readWriteKeys("rw");

eachClient("rwlock: readers share the lock; a writer cannot enter meanwhile", async (env) => {
  const rw = new RedisReadWriteLock(await env.client(), "rw");
  const readers = [rw.readLock(), rw.readLock(), rw.readLock()];
  for (const r of readers) assert.equal(await r.acquire({ blocking: false }), true);
  for (const r of readers) assert.equal(await r.owned(), true);
  const writer = rw.writeLock();
  assert.equal(await writer.locked(), true);
  assert.equal(await writer.acquire({ blocking: false }), false);
  assert.equal(await readers[0].locked(), false, "a reader could still enter");
  for (const r of readers) await r.release();
  assert.equal(await writer.acquire({ blocking: false }), true);
  await writer.release();
  assert.equal(await env.server.command("DBSIZE"), 0, "no key left");
});

eachClient("rwlock: a writer is alone: no reader and no other writer enters", async (env) => {
  const rw = new RedisReadWriteLock(await env.client(), "rw");
  const writer = await rw.writeLock().lock();
  assert.equal(await rw.readLock().acquire({ blocking: false }), false);
  assert.equal(await rw.writeLock().acquire({ blocking: false }), false);
  assert.equal(await rw.readLock().locked(), true);
  await writer.release();
  assert.equal(await env.server.command("DBSIZE"), 0);
});

eachClient(
  "rwlock: arrival order: queued readers enter together, a writer waits its turn",
  async (env) => {
    const rw = new RedisReadWriteLock(await env.client(), "rw");
    const first = await rw.writeLock().lock();
    const order: string[] = [];
    const parties: Array<[string, RedisReadWriteHolder]> = [
      ["r1", rw.readLock()],
      ["r2", rw.readLock()],
      ["w1", rw.writeLock()],
      ["r3", rw.readLock()],
      ["w2", rw.writeLock()],
    ];
    const gates = new Map<string, { promise: Promise<void>; resolve: () => void }>();
    const done: Promise<void>[] = [];
    for (const [label, holder] of parties) {
      let resolve = () => {};
      const promise = new Promise<void>((r) => resolve = r);
      const gate = { promise, resolve };
      gates.set(label, gate);
      done.push(holder.run(async () => {
        order.push(`+${label}`);
        await gate.promise;
        order.push(`-${label}`);
      }, { blockingTimeout: 10_000 }));
      await queuedIn(env.server, KEYS.queue, order.length + gates.size);
    }
    await first.release();
    await until(() => order.length === 2, "r1 and r2 in");
    assert.deepEqual(order.toSorted(), ["+r1", "+r2"], "both readers admitted in one step");
    gates.get("r1")!.resolve();
    await until(() => order.includes("-r1"), "r1 out");
    assert.ok(!order.includes("+w1"), "w1 waits for r2");
    gates.get("r2")!.resolve();
    await until(() => order.includes("+w1"), "w1 in");
    assert.ok(!order.includes("+r3"), "r3 waits behind w1");
    gates.get("w1")!.resolve();
    await until(() => order.includes("+r3"), "r3 in");
    assert.ok(!order.includes("+w2"));
    gates.get("r3")!.resolve();
    gates.get("w2")!.resolve();
    await Promise.all(done);
    assert.deepEqual(order.slice(2), ["-r1", "-r2", "+w1", "-w1", "+r3", "-r3", "+w2", "-w2"]);
    assert.equal(await env.server.command("DBSIZE"), 0);
  },
);

eachClient("rwlock: a reader that comes while a writer waits queues behind it", async (env) => {
  const rw = new RedisReadWriteLock(await env.client(), "rw");
  const reader = await rw.readLock().lock();
  const writer = rw.writeLock();
  const writing = writer.acquire({ blockingTimeout: 10_000 });
  await queuedIn(env.server, KEYS.queue, 1);
  const late = rw.readLock();
  assert.equal(await late.acquire({ blocking: false }), false, "no overtaking a queued writer");
  const lateWait = late.acquire({ blockingTimeout: 10_000 });
  await queuedIn(env.server, KEYS.queue, 2);
  await reader.release();
  assert.equal(await writing, true);
  assert.equal(late.held, false);
  await writer.release();
  assert.equal(await lateWait, true);
  await late.release();
  assert.equal(await env.server.command("DBSIZE"), 0);
});

eachClient(
  "rwlock: a writer gets in promptly behind a stream of overlapping readers",
  async (env) => {
    const rw = new RedisReadWriteLock(await env.client(), "rw");
    let stop = false;
    let reads = 0;
    // Four readers in a loop, each holding 20 ms, staggered: the lock is never free of readers.
    const loops = [0, 1, 2, 3].map(async (i) => {
      await delay(5 * i);
      while (!stop) {
        await rw.readLock().run(() => delay(20), { blockingTimeout: 10_000 });
        reads++;
      }
    });
    await until(() => reads >= 8, "readers streaming");
    const start = performance.now();
    const writer = rw.writeLock();
    await writer.lock({ blockingTimeout: 10_000 });
    const waited = performance.now() - start;
    stop = true;
    await writer.release();
    await Promise.all(loops);
    assert.ok(waited < 1_000, `the writer waited ${waited.toFixed(0)} ms behind 20 ms reads`);
  },
);

eachClient("rwlock: the last reader's release wakes the queued writer at once", async (env) => {
  // A refresh would come only after ~3.3 s (handoffTimeout / 3): a wake-up
  // well under that, with no attempt by the writer, is the release's message.
  const options = { handoffTimeout: 10_000 };
  const rw = new RedisReadWriteLock(await env.client(), "rw", options);
  const readers = [await rw.readLock().lock(), await rw.readLock().lock()];
  const driver = tracked(await env.client());
  const writer = new RedisReadWriteLock(driver as RedisDriver, "rw", options).writeLock();
  const writing = writer.acquire({ blockingTimeout: 10_000 });
  await sleepingOn([driver], 1, KEYS.grants);
  await readers[0].release();
  // That release's script has run: with one reader left it handed nothing on.
  assert.equal(await env.server.command("EXISTS", readWriteKeys("rw").writer), 0, "a reader holds");
  const sent = driver.sent;
  const released = performance.now();
  await readers[1].release();
  assert.equal(await writing, true);
  const woke = performance.now() - released;
  assert.ok(woke < 500, `woken after ${woke.toFixed(0)} ms`);
  assert.equal(driver.sent, sent, "the writer sent no attempt: the hand-off came by message");
  assert.equal(await writer.owned(), true);
  await writer.release();
});

eachClient("rwlock: a writer's release admits every queued reader by message", async (env) => {
  // Each reader on its own connection (its own subscriber manager): one is
  // handed the lock in the release's reply (same process), the others by
  // message on this process's hand-off channel.
  const options = { handoffTimeout: 10_000 };
  const rw = new RedisReadWriteLock(await env.client(), "rw", options);
  const writer = await rw.writeLock().lock();
  const drivers = [tracked(await env.client()), tracked(await env.client())];
  drivers.push(tracked(await env.client()));
  const readers = drivers.map((d) => new RedisReadWriteLock(d as RedisDriver, "rw", options));
  const holders = readers.map((r) => r.readLock());
  const reading = holders.map((r) => r.acquire({ blockingTimeout: 10_000 }));
  for (const driver of drivers) await sleepingOn([driver], 1, KEYS.grants);
  await queuedIn(env.server, KEYS.queue, 3);
  const sent = drivers.map((d) => d.sent);
  const released = performance.now();
  await writer.release();
  assert.deepEqual(await Promise.all(reading), [true, true, true]);
  assert.ok(performance.now() - released < 500);
  assert.deepEqual(drivers.map((d) => d.sent), sent, "no reader sent an attempt");
  for (const r of holders) await r.release();
  assert.equal(await env.server.command("DBSIZE"), 0);
});

eachClient("rwlock: writers taking turns cannot starve a reader", async (env) => {
  const rw = new RedisReadWriteLock(await env.client(), "rw");
  let stop = false;
  let writes = 0;
  const writers = [0, 1].map(async (i) => {
    await delay(7 * i);
    while (!stop) {
      await rw.writeLock().run(() => delay(20), { blockingTimeout: 10_000 });
      writes++;
    }
  });
  await until(() => writes >= 6, "writers streaming");
  const start = performance.now();
  const reader = await rw.readLock().lock({ blockingTimeout: 10_000 });
  const waited = performance.now() - start;
  stop = true;
  await reader.release();
  await Promise.all(writers);
  // Behind at most the writer inside and the one queued: two 20 ms holds.
  assert.ok(waited < 500, `the reader waited ${waited.toFixed(0)} ms behind 20 ms writes`);
  assert.deepEqual(await env.server.command("KEYS", "*"), []);
});
