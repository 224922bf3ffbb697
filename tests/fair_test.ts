import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LockClient, type RedisDriver, RedisLock, RedisSpinLock } from "../mod.ts";
import { resolveDriver } from "../lib/clients/lock_client.ts";
import {
  commandCalls,
  delay,
  eachClient,
  releaseFromElsewhere as fromElsewhere,
  subscribers,
  type TestEnv,
  until,
  within,
} from "./harness/env.ts";
import { lockKeys } from "../lib/redis/_keys.ts";
import { LINGER_MS } from "../lib/wait/subscriber_manager.ts";
import { startChild } from "./harness/process.ts";
import { startRedis } from "./harness/redis.ts";
import { asleep, modeNamed, tracked } from "./harness/fault_modes.ts";

const QUEUE = "lock:{fair}:queue";

async function queueLength(env: { server: TestEnv["server"] }): Promise<number> {
  return Number(await env.server.command("ZCOUNT", QUEUE, "(0", "+inf"));
}

eachClient(
  "fair: waiters on separate connections acquire in the order they queued",
  async (env) => {
    const holder = new RedisLock(await env.client(), "fair", { fair: true });
    await holder.lock();
    const order: number[] = [];
    const done: Promise<void>[] = [];
    for (let i = 0; i < 6; i++) {
      const lock = new RedisLock(await env.client(), "fair", { fair: true });
      done.push(lock.run(() => void order.push(i), { blockingTimeout: 10_000 }));
      while (await queueLength(env) < i + 1) await delay(2);
    }
    await holder.release();
    await Promise.all(done);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
    assert.equal(await env.server.command("DBSIZE"), 0);
  },
);

eachClient(
  "fair: a hand-off needs no extra round trip: the next waiter owns the lock on receipt",
  async (env) => {
    const holder = new RedisLock(await env.client(), "fair", { fair: true });
    await holder.lock();
    const driver = tracked(await env.client());
    const waiter = new RedisLock(driver, "fair", { fair: true });
    const acquired = waiter.acquire({ blockingTimeout: 10_000 });
    await asleep([driver], 1, modeNamed("RedisLock fair"), ["fair"]);
    assert.equal(await queueLength(env), 1);
    const before = await commandCalls(env.server, "evalsha");
    const sent = driver.sent;
    await holder.release();
    assert.equal(await acquired, true);
    assert.equal(await commandCalls(env.server, "evalsha") - before, 1, "only release ran");
    assert.equal(driver.sent, sent, "the waiter sent nothing");
    assert.equal(await waiter.owned(), true);
    await waiter.release();
  },
);

eachClient("fair and non-fair locks of one name exclude each other", async (env) => {
  const fair = new RedisLock(await env.client(), "fair", { fair: true });
  const driver = tracked(await env.client());
  const plain = new RedisLock(driver, "fair", { fair: false });
  const spin = new RedisSpinLock(await env.client(), "fair");
  await fair.lock();
  assert.equal(await plain.acquire({ blocking: false }), false);
  assert.equal(await spin.acquire({ blocking: false }), false);
  const waiting = plain.acquire({ blockingTimeout: 5_000 });
  await asleep([driver], 1, modeNamed("RedisLock non-fair"), ["fair"]);
  await fair.release();
  assert.equal(await waiting, true);
  assert.equal(await fair.acquire({ blocking: false }), false);
  await plain.release();
});

eachClient(
  "fair: a timed-out or aborted waiter leaves the queue and writes nothing else",
  async (env) => {
    const holder = new RedisLock(await env.client(), "fair", { fair: true });
    await holder.lock();
    const timedOut = new RedisLock(await env.client(), "fair", { fair: true });
    assert.equal(await timedOut.acquire({ blockingTimeout: 100 }), false);
    const controller = new AbortController();
    const aborted = new RedisLock(await env.client(), "fair", { fair: true });
    const waiting = aborted.acquire({ signal: controller.signal });
    while (await queueLength(env) < 1) await delay(2);
    controller.abort(new Error("stop"));
    await assert.rejects(waiting, /stop/);
    assert.equal(await queueLength(env), 0);
    assert.equal(await env.server.command("EXISTS", QUEUE), 0, "no liveness left either");
    await holder.release();
    assert.equal(await env.server.command("DBSIZE"), 0);
  },
);

eachClient("fair: a waiter aborted just as it is granted hands the lock on", async (env) => {
  for (let round = 0; round < 10; round++) {
    const holder = new RedisLock(await env.client(), "fair", { fair: true });
    await holder.lock();
    const controller = new AbortController();
    const first = new RedisLock(await env.client(), "fair", { fair: true });
    const firstWait = first.acquire({ signal: controller.signal }).catch(() => false);
    while (await queueLength(env) < 1) await delay(1);
    const second = new RedisLock(await env.client(), "fair", { fair: true });
    const secondWait = second.acquire({ blockingTimeout: 5_000 });
    while (await queueLength(env) < 2) await delay(1);
    const releasing = holder.release();
    await delay(round % 3); // the abort lands around the hand-off
    controller.abort();
    await releasing;
    const firstGot = await firstWait;
    // Either outcome is right, but it must be the whole truth: it holds the
    // lock exactly when acquire() said so.
    assert.equal(first.held, firstGot, `round ${round}: held after acquire() gave ${firstGot}`);
    if (firstGot) await first.release();
    assert.equal(await secondWait, true, `round ${round}: the lock was not stuck`);
    assert.equal(await second.owned(), true);
    await second.release();
    assert.equal(await env.server.command("DBSIZE"), 0);
  }
});

eachClient(
  "fair: fencing tokens grow through hand-offs and the lease is renewed after one",
  async (env) => {
    const opts = { fair: true, fencing: true, ttl: 600, handoffTimeout: 300 };
    const holder = new RedisLock(await env.client(), "fair", opts);
    await holder.lock();
    const waiter = new RedisLock(await env.client(), "fair", opts);
    const acquired = waiter.acquire({ blockingTimeout: 5_000 });
    while (await queueLength(env) < 1) await delay(2);
    await holder.release();
    assert.equal(await acquired, true);
    assert.ok(waiter.fencingToken! > holder.fencingToken!);
    await delay(1_000); // well past the 300 ms hand-off lease and the 600 ms ttl
    assert.equal(waiter.signal.aborted, false);
    assert.equal(await waiter.owned(), true);
    await waiter.release();
  },
);

test("fair: waiters in separate processes acquire in the order they queued", async () => {
  const server = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), "fair-"));
  const file = join(dir, "log");
  const client = await (await import("redis")).createClient({ url: server.url }).connect();
  try {
    const holder = new RedisLock(client as never, "fair", { fair: true });
    await holder.lock();
    const children = [];
    for (let i = 0; i < 4; i++) {
      children.push(startChild("fixtures/fair_waiter.ts", [server.url, file, `${i}`, "20"]));
      while (Number(await server.command("ZCOUNT", QUEUE, "(0", "+inf")) < i + 1) await delay(5);
    }
    await holder.release();
    assert.deepEqual(await Promise.all(children.map((c) => c.exited)), [0, 0, 0, 0]);
    assert.deepEqual(readFileSync(file, "utf8").trim().split("\n"), ["0", "1", "2", "3"]);
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
});

test("fair: a queued waiter killed with SIGKILL delays the next by at most about handoffTimeout", async () => {
  const server = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), "fair-"));
  const file = join(dir, "log");
  const client = await (await import("redis")).createClient({ url: server.url }).connect();
  try {
    // The releaser's handoffTimeout bounds the grant to the dead waiter.
    const holder = new RedisLock(client as never, "fair", { fair: true, handoffTimeout: 1_000 });
    await holder.lock();
    const doomed = startChild("fixtures/fair_waiter.ts", [server.url, file, "doomed", "0"]);
    while (Number(await server.command("ZCOUNT", QUEUE, "(0", "+inf")) < 1) await delay(5);
    const next = startChild("fixtures/fair_waiter.ts", [server.url, file, "next", "0"]);
    while (Number(await server.command("ZCOUNT", QUEUE, "(0", "+inf")) < 2) await delay(5);
    doomed.process.kill("SIGKILL");
    await doomed.exited;
    const releasedAt = performance.now();
    await holder.release(); // hands the lock to the dead waiter first
    assert.equal(await next.exited, 0);
    const waited = performance.now() - releasedAt;
    assert.ok(waited < 1_000 + 1_000, `next acquired ${waited.toFixed(0)} ms after the release`);
    assert.deepEqual(readFileSync(file, "utf8").trim().split("\n"), ["next"]);
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
});

test("fair: a waiter killed while queued is dropped, so the next one acquires when the holder's lease runs out without a release", async () => {
  const server = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), "fair-"));
  const file = join(dir, "log");
  const client = await (await import("redis")).createClient({ url: server.url }).connect();
  try {
    // A holder of another process that will never release (it crashed).
    await server.command("SET", "lock:{fair}", "crashed.60000", "PX", "60000");
    const doomed = startChild("fixtures/fair_waiter.ts", [server.url, file, "doomed", "0"]);
    await until(
      async () => Number(await server.command("ZCOUNT", QUEUE, "(0", "+inf")) === 1,
      "doomed queued",
      30_000,
    );
    const next = new RedisLock(client as never, "fair", { fair: true, handoffTimeout: 1_000 });
    const acquiring = next.acquire({ blockingTimeout: 5_000 });
    await until(
      async () => Number(await server.command("ZCOUNT", QUEUE, "(0", "+inf")) === 2,
      "next queued",
    );
    doomed.process.kill("SIGKILL");
    await doomed.exited;
    // The lease runs out: no release, no hand-off, no message. Only the
    // dead waiter's liveness deadline (its handoffTimeout, 1 s) is in the way.
    await server.command("PEXPIRE", "lock:{fair}", "1");
    const expiredAt = performance.now();
    assert.equal(await acquiring, true, "the live waiter starved behind the dead one");
    const waited = performance.now() - expiredAt;
    assert.ok(waited < 1_000 + 1_000, `next acquired ${waited.toFixed(0)} ms after the expiry`);
    assert.equal(await next.owned(), true);
    await next.release();
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
});

const CHANNEL = lockKeys("fair").channel;

/** A fair holder, and a fair waiter on another client queued behind it. */
async function holderAndQueuedWaiter(env: TestEnv) {
  const holder = new RedisLock(await env.client(), "fair", { fair: true });
  await holder.lock();
  const waiter = new RedisLock(await env.client(), "fair", { fair: true });
  const acquired = waiter.acquire({ blockingTimeout: 10_000 });
  while (await queueLength(env) < 1) await delay(2);
  return { holder, waiter, acquired };
}

/** A hand-off from a holder of another process (token `token`): published as a `grant`. */
async function releaseFromElsewhere(env: TestEnv, token: string): Promise<void> {
  assert.equal(await fromElsewhere(env.server, "fair", token), 2, "handed on by a published grant");
}

eachClient(
  "fair: a hand-off from another process arrives as a grant message and the waiter owns the lock",
  async (env) => {
    await env.server.command("SET", "lock:{fair}", "elsewhere.30000", "PX", "30000");
    const waiter = new RedisLock(await env.client(), "fair", { fair: true });
    const acquired = waiter.acquire({ blockingTimeout: 10_000 });
    // Queued, and its subscription confirmed by the server: the grant reaches it.
    while (await queueLength(env) < 1 || await subscribers(env.server, CHANNEL) < 1) await delay(2);
    const published = await commandCalls(env.server, "publish");
    const releasedAt = performance.now();
    await releaseFromElsewhere(env, "elsewhere.30000");
    assert.equal(await acquired, true);
    assert.ok(performance.now() - releasedAt < 500, "woken by the message, not a refresh");
    assert.equal(await commandCalls(env.server, "publish"), published + 1);
    assert.equal(await waiter.owned(), true);
    await waiter.release();
  },
);

eachClient(
  "fair: a granted waiter whose hand-off message is lost still acquires, within a third of handoffTimeout",
  async (env) => {
    await env.server.command("SET", "lock:{fair}", "elsewhere.30000", "PX", "30000");
    const base = resolveDriver(await env.client());
    const deaf: RedisDriver = { // delivers no message at all
      ...base,
      createSubscriber: (events) => base.createSubscriber({ ...events, message: () => {} }),
    };
    const waiter = new RedisLock(deaf, "fair", { fair: true, handoffTimeout: 900 });
    const acquired = waiter.acquire({ blockingTimeout: 5_000 });
    while (await queueLength(env) < 1 || await subscribers(env.server, CHANNEL) < 1) await delay(2);
    const releasedAt = performance.now();
    await releaseFromElsewhere(env, "elsewhere.30000");
    assert.equal(await acquired, true);
    const waited = performance.now() - releasedAt;
    assert.ok(waited < 300 + 150, `acquired ${waited.toFixed(0)} ms after the hand-off`);
    await waiter.release();
  },
);

eachClient(
  "fair: a hand-off to a waiter of the releasing process is delivered in memory: nothing is published",
  async (env) => {
    const { holder, waiter, acquired } = await holderAndQueuedWaiter(env);
    const published = await commandCalls(env.server, "publish");
    await holder.release();
    assert.equal(await acquired, true);
    assert.equal(await commandCalls(env.server, "publish"), published);
    assert.equal(await waiter.owned(), true);
    await waiter.release();
  },
);

eachClient(
  "fair: holders taking turns keep their channel: the next wait sends no SUBSCRIBE, also after a release that found nobody queued",
  async (env) => {
    const { holder, waiter, acquired } = await holderAndQueuedWaiter(env);
    await holder.release();
    assert.equal(await acquired, true);
    await waiter.release(); // nobody queued: the lock is free
    assert.equal(await subscribers(env.server, CHANNEL), 1, "kept for the next wait");
    const subscribes = await commandCalls(env.server, "subscribe");
    await holder.lock();
    const again = waiter.acquire({ blockingTimeout: 10_000 });
    while (await queueLength(env) < 1) await delay(2);
    await holder.release();
    assert.equal(await again, true);
    assert.equal(await commandCalls(env.server, "subscribe"), subscribes, "no SUBSCRIBE");
    await waiter.release();
  },
);

eachClient(
  "fair: a kept channel is dropped LINGER_MS after its waiter took the lock, even while held",
  async (env) => {
    const { holder, waiter, acquired } = await holderAndQueuedWaiter(env);
    await holder.release();
    assert.equal(await acquired, true);
    const tookAt = performance.now();
    while (await subscribers(env.server, CHANNEL) > 0) await delay(20);
    const kept = performance.now() - tookAt;
    assert.ok(kept >= LINGER_MS - 50 && kept < LINGER_MS + 1_000, `kept ${kept.toFixed(0)} ms`);
    assert.equal(await waiter.owned(), true);
    await waiter.release();
  },
);

/**
 * A driver whose subscriber holds every SUBSCRIBE back (before sending it)
 * until `open()`: a window in which a published message reaches nobody.
 */
function gatedSubscriptions(client: LockClient) {
  const base = resolveDriver(client);
  let open = () => {};
  const gate = new Promise<void>((resolve) => open = resolve);
  let held = 0;
  const driver: RedisDriver = {
    ...base,
    createSubscriber: async (events) => {
      const subscriber = await base.createSubscriber(events);
      return {
        subscribe: async (channel) => {
          held++;
          await gate;
          await subscriber.subscribe(channel);
        },
        unsubscribe: (channel) => subscriber.unsubscribe(channel),
        close: () => subscriber.close(),
      };
    },
  };
  return { driver, open, held: () => held };
}

eachClient(
  "fair: a hand-off published by another process while the waiter subscribes is taken up once the subscription is confirmed",
  async (env) => {
    await env.server.command("SET", "lock:{fair}", "elsewhere.30000", "PX", "30000");
    const gated = gatedSubscriptions(await env.client());
    // Refreshes every 2 s (a third of handoffTimeout): only its attempt right
    // after the subscription can find the hand-off sooner.
    const waiter = new RedisLock(gated.driver, "fair", { fair: true, handoffTimeout: 6_000 });
    const acquired = waiter.acquire({ blockingTimeout: 10_000 });
    await until(() => gated.held() > 0, "the waiter is subscribing");
    assert.equal(await queueLength(env), 1, "queued by its first attempt");
    assert.equal(await subscribers(env.server, CHANNEL), 0);
    await releaseFromElsewhere(env, "elsewhere.30000"); // the grant is published to nobody
    const openedAt = performance.now();
    gated.open();
    assert.equal(await acquired, true);
    const waited = performance.now() - openedAt;
    assert.ok(waited < 1_000, `acquired ${waited.toFixed(0)} ms after subscribing (refresh: 2 s)`);
    assert.equal(await waiter.owned(), true);
    await waiter.release();
  },
);

const FAIR = modeNamed("RedisLock fair");

for (const leaves of ["is aborted while first in line", "times out while second in line"]) {
  eachClient(
    `fair: a waiter that ${leaves} leaves its client's channel subscribed for the other waiter, whom the release's grant still reaches`,
    async (env) => {
      await env.server.command("SET", "lock:{fair}", "elsewhere.30000", "PX", "30000");
      const driver = tracked(await env.client());
      // Refreshes every 10 s: within the test only the grant can wake the waiter.
      const options = { fair: true, handoffTimeout: 30_000 };
      const leaver = new RedisLock(driver, "fair", options);
      const stayer = new RedisLock(driver, "fair", options);
      let left: Promise<unknown>;
      let acquired: Promise<boolean>;
      if (leaves.startsWith("is aborted")) {
        const controller = new AbortController();
        left = leaver.acquire({ signal: controller.signal }).catch((err: unknown) => err);
        await asleep([driver], 1, FAIR, ["fair"]);
        acquired = stayer.acquire({ blockingTimeout: 20_000 });
        await asleep([driver], 2, FAIR, ["fair"]);
        controller.abort(new Error("gone"));
        assert.match(String(await left), /gone/);
      } else {
        acquired = stayer.acquire({ blockingTimeout: 20_000 });
        await asleep([driver], 1, FAIR, ["fair"]);
        left = leaver.acquire({ blockingTimeout: 300 });
        assert.equal(await left, false);
      }
      assert.equal(await queueLength(env), 1, "only the remaining waiter is queued");
      assert.equal(await subscribers(env.server, CHANNEL), 1, "the channel is still subscribed");
      // The remaining waiter re-checks when it becomes the head; let that run.
      await asleep([driver], 1, FAIR, ["fair"]);
      const sent = driver.sent;
      await releaseFromElsewhere(env, "elsewhere.30000");
      assert.equal(await within(acquired, 5_000, "the remaining waiter's acquire()"), true);
      assert.equal(driver.sent, sent, "woken by the grant message, not by an attempt");
      assert.equal(await stayer.owned(), true);
      await stayer.release();
    },
  );
}
