import assert from "node:assert/strict";
import { LockNotOwnedError, RedisLock, RedisSemaphore } from "../mod.ts";
import { commandCalls, delay, eachClient, queueLength, until } from "./harness/env.ts";
import { semaphoreKeys } from "../lib/redis/_semaphore_keys.ts";
import { sleepingOn, tracked, type TrackedDriver } from "./harness/fault_modes.ts";

const KEYS = semaphoreKeys("sem");

/** Resolves once `n` waiters on `drivers` sleep on the semaphore's grant channel. */
const sleeping = (drivers: TrackedDriver[], n: number) => sleepingOn(drivers, n, KEYS.grants);

eachClient("semaphore: up to limit holders at once, and no more", async (env) => {
  const client = await env.client();
  const sems = Array.from({ length: 4 }, () => new RedisSemaphore(client, "sem", { limit: 3 }));
  assert.equal(await sems[0].available(), 3);
  assert.deepEqual(
    await Promise.all(sems.map((s) => s.acquire({ blocking: false }))),
    [true, true, true, false],
  );
  assert.equal(await sems[3].available(), 0);
  assert.equal(await sems[3].locked(), true);
  assert.equal(await sems[0].owned(), true);
  assert.ok(await sems[0].remaining() > 29_000);
  await sems[0].release();
  assert.equal(await sems[3].available(), 1);
  assert.equal(await sems[3].locked(), false);
  assert.equal(await sems[3].acquire({ blocking: false }), true);
  for (const s of sems.slice(1)) await s.release();
  assert.equal(await env.server.command("DBSIZE"), 0, "no key left once nobody holds");
});

eachClient("semaphore: waiters take permits in the order they queued", async (env) => {
  const make = async () => new RedisSemaphore(await env.client(), "sem", { limit: 2 });
  const held = [await make(), await make()];
  for (const h of held) await h.lock();
  const order: number[] = [];
  const leave: Array<() => void> = [];
  const done: Promise<void>[] = [];
  for (let i = 0; i < 6; i++) {
    const sem = await make();
    const gate = new Promise<void>((resolve) => leave[i] = resolve);
    done.push(sem.run(async () => {
      order.push(i);
      await gate;
    }, { blockingTimeout: 10_000 }));
    while (await queueLength(env.server, KEYS.queue) < i + 1) await delay(2);
  }
  // One permit comes free at a time: the oldest waiter must take each.
  const free = [
    () => held[0].release(),
    () => held[1].release(),
    ...leave.map((_, i) => () => {
      leave[order[i]]();
    }),
  ];
  for (let i = 0; i < 6; i++) {
    await free[i]();
    await until(() => order.length === i + 1, `waiter ${i} entered`);
  }
  leave[order[4]]();
  leave[order[5]]();
  await Promise.all(done);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  assert.equal(await env.server.command("DBSIZE"), 0);
});

eachClient(
  "semaphore: a release hands its permit to the oldest waiter at once, with no extra request",
  async (env) => {
    const holder = new RedisSemaphore(await env.client(), "sem", { limit: 1 });
    await holder.lock();
    await holder.release(); // every script is loaded: no NOSCRIPT round trip below
    await holder.lock();
    const drivers = [tracked(await env.client()), tracked(await env.client())];
    const [first, second] = drivers.map((d) => new RedisSemaphore(d, "sem", { limit: 1 }));
    const firstWait = first.acquire({ blockingTimeout: 10_000 });
    await sleeping(drivers.slice(0, 1), 1);
    const secondWait = second.acquire({ blockingTimeout: 10_000 });
    await sleeping(drivers, 2);
    const before = await commandCalls(env.server, "evalsha");
    const sent = drivers.map((d) => d.sent);
    const releasedAt = performance.now();
    await holder.release();
    assert.equal(await firstWait, true);
    const took = performance.now() - releasedAt;
    assert.ok(took < 250, `the oldest waiter took ${took.toFixed(0)} ms`);
    assert.equal(await commandCalls(env.server, "evalsha") - before, 1, "only the release ran");
    assert.deepEqual(drivers.map((d) => d.sent), sent, "the waiters sent nothing");
    assert.equal(second.held, false);
    await first.release();
    assert.equal(await secondWait, true);
    await second.release();
    assert.equal(await env.server.command("DBSIZE"), 0);
  },
);

eachClient("semaphore: waiters send only their liveness refreshes while waiting", async (env) => {
  const holder = new RedisSemaphore(await env.client(), "sem", { limit: 1 });
  await holder.lock();
  const driver = tracked(await env.client());
  // A queued waiter refreshes its place every third of handoffTimeout: 200 ms.
  const waiter = new RedisSemaphore(driver, "sem", { limit: 1, handoffTimeout: 600 });
  const waiting = waiter.acquire({ blockingTimeout: 10_000 });
  await sleeping([driver], 1);
  const sent = driver.sent;
  const from = performance.now();
  await delay(1_000);
  const refreshes = driver.sent - sent;
  // No more than one request per refresh period (a loaded machine may fire
  // its timers late, never early), and at least one: the waiter is alive.
  const most = Math.ceil((performance.now() - from) / 200) + 1;
  assert.ok(refreshes >= 1 && refreshes <= most, `${refreshes} requests in 1 s (at most ${most})`);
  await holder.release();
  assert.equal(await waiting, true);
  await waiter.release();
});

eachClient("semaphore: timed-out and aborted waiters leave no queue entry", async (env) => {
  const holder = new RedisSemaphore(await env.client(), "sem", { limit: 1 });
  await holder.lock();
  const timedOut = new RedisSemaphore(await env.client(), "sem", { limit: 1 });
  assert.equal(await timedOut.acquire({ blockingTimeout: 100 }), false);
  assert.equal(await queueLength(env.server, KEYS.queue), 0);
  const controller = new AbortController();
  const aborted = new RedisSemaphore(await env.client(), "sem", { limit: 1 });
  const waiting = aborted.acquire({ signal: controller.signal });
  while (await queueLength(env.server, KEYS.queue) < 1) await delay(2);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, /stop/);
  assert.equal(await env.server.command("EXISTS", KEYS.queue), 0, "no entry nor liveness left");
  await holder.release();
  assert.equal(await env.server.command("DBSIZE"), 0);
});

eachClient("semaphore: a permit not renewed comes back when its lease ends", async (env) => {
  const client = await env.client();
  const opts = { limit: 1, ttl: 300, autoExtend: false };
  const lapsed = new RedisSemaphore(client, "sem", opts);
  await lapsed.lock();
  const next = new RedisSemaphore(client, "sem", { limit: 1 });
  const waitedFrom = performance.now();
  assert.equal(await next.acquire({ blockingTimeout: 5_000 }), true);
  const waited = performance.now() - waitedFrom;
  assert.ok(waited > 200 && waited < 800, `the permit came back after ${waited.toFixed(0)} ms`);
  assert.equal(lapsed.held, false);
  await assert.rejects(lapsed.release(), LockNotOwnedError);
  await next.release();
  assert.equal(await env.server.command("DBSIZE"), 0);
});

eachClient("semaphore: no key is left behind by a holder that never released", async (env) => {
  const sem = new RedisSemaphore(await env.client(), "sem", {
    limit: 2,
    ttl: 200,
    autoExtend: false,
  });
  await sem.lock();
  assert.equal(await env.server.command("EXISTS", KEYS.holders), 1);
  await until(async () => await env.server.command("DBSIZE") === 0, "holders key expired", 2_000);
});

eachClient(
  "semaphore: leases are renewed while held, extend() sets one, a lost one aborts",
  async (env) => {
    const sem = new RedisSemaphore(await env.client(), "sem", { limit: 2, ttl: 300 });
    await sem.lock();
    await delay(700);
    assert.equal(sem.signal.aborted, false);
    assert.equal(await sem.owned(), true);
    await sem.extend(5_000);
    assert.ok(await sem.remaining() > 4_000);
    const lost = new RedisSemaphore(await env.client(), "sem", { limit: 2 });
    await lost.lock();
    const token = (await env.server.command("ZRANGE", KEYS.holders, "-1", "-1")) as string[];
    await env.server.command("ZREM", KEYS.holders, ...token); // the latest lease: `lost`'s
    await assert.rejects(lost.extend(), LockNotOwnedError);
    assert.equal(lost.signal.aborted, true);
    assert.equal(await sem.owned(), true);
    await sem.release();
  },
);

eachClient("semaphore: a semaphore and a lock of one name are independent", async (env) => {
  const client = await env.client();
  const lock = new RedisLock(client, "sem");
  const sem = new RedisSemaphore(client, "sem", { limit: 1 });
  await lock.lock();
  assert.equal(await sem.acquire({ blocking: false }), true);
  assert.equal(await lock.locked(), true);
  await sem.release();
  assert.equal(await lock.owned(), true);
  await lock.release();
  assert.equal(await env.server.command("DBSIZE"), 0);
});

eachClient(
  "semaphore: race mode (fair: false) keeps to the limit and wakes waiters",
  async (env) => {
    const opts = { limit: 2, fair: false };
    const make = async () => new RedisSemaphore(await env.client(), "sem", opts);
    const held = [await make(), await make()];
    for (const h of held) await h.lock();
    const ws = [await make(), await make(), await make()];
    const waits = ws.map((w) => w.acquire({ blockingTimeout: 5_000 }));
    const holding = () => ws.filter((w) => w.held);
    await until(async () => await env.server.command("EXISTS", KEYS.racers) === 1, "raced");
    await held[0].release();
    await until(() => holding().length === 1, "a waiter took the freed permit");
    assert.equal(await held[1].available(), 0);
    await held[1].release();
    await until(() => holding().length === 2, "a waiter took the second permit");
    for (const w of holding()) await w.release();
    assert.deepEqual(await Promise.all(waits), [true, true, true]);
    for (const w of holding()) await w.release();
    assert.equal(await held[0].available(), 2);
  },
);
