import assert from "node:assert/strict";
import { LockNotOwnedError, RedisLock, RedisSpinLock } from "../mod.ts";
import { commandCalls, delay, eachClient, subscribers, until } from "./harness/env.ts";
import { LINGER_MS } from "../lib/wait/subscriber_manager.ts";

const CHANNEL = "lock:{job}:wake";

eachClient("acquire() takes a free lock and release() frees it", async (env) => {
  const client = await env.client();
  const lock = new RedisLock(client, "job");
  assert.equal(await lock.acquire(), true);
  assert.equal(await lock.locked(), true);
  assert.equal(await lock.owned(), true);
  await lock.release();
  assert.equal(await lock.locked(), false);
  assert.equal(await env.server.command("EXISTS", "lock:{job}"), 0);
});

eachClient(
  "acquire({ blocking: false }) returns false while another instance holds",
  async (env) => {
    const client = await env.client();
    const holder = new RedisLock(client, "job");
    await holder.lock();
    const other = new RedisLock(client, "job");
    assert.equal(await other.acquire({ blocking: false }), false);
    assert.equal(await other.owned(), false);
    await holder.release();
    assert.equal(await other.acquire({ blocking: false }), true);
    await other.release();
  },
);

eachClient("acquire() wakes promptly when the holder releases", async (env) => {
  const holder = new RedisLock(await env.client(), "job");
  const waiter = new RedisLock(await env.client(), "job");
  await holder.lock();
  const acquired = waiter.acquire({ blockingTimeout: 10_000 });
  while (await subscribers(env.server, CHANNEL) === 0) await delay(5);
  const releasedAt = performance.now();
  await holder.release();
  assert.equal(await acquired, true);
  const gap = performance.now() - releasedAt;
  assert.ok(gap < 500, `woken ${gap.toFixed(1)} ms after the release`);
  await waiter.release();
  // Kept LINGER_MS for a next wait, then unsubscribed.
  const gone = async () => await subscribers(env.server, CHANNEL) === 0;
  await until(gone, "unsubscribed", LINGER_MS + 1_000);
});

eachClient(
  "release() rejects with LockNotOwnedError when never acquired or already released",
  async (env) => {
    const lock = new RedisLock(await env.client(), "job");
    await assert.rejects(lock.release(), LockNotOwnedError);
    await lock.lock();
    await lock.release();
    await assert.rejects(lock.release(), LockNotOwnedError);
  },
);

eachClient("release() never deletes the next holder's key after the lease ran out", async (env) => {
  const client = await env.client();
  const first = new RedisLock(client, "job", { ttl: 100, autoExtend: false });
  await first.lock();
  const second = new RedisLock(client, "job", { ttl: 10_000 });
  assert.equal(await second.acquire({ blockingTimeout: 2_000 }), true);
  await assert.rejects(first.release(), LockNotOwnedError);
  assert.equal(await second.owned(), true);
  await second.release();
});

eachClient("each acquisition writes a fresh random token", async (env) => {
  const lock = new RedisLock(await env.client(), "job");
  const tokens = new Set<unknown>();
  for (let i = 0; i < 3; i++) {
    await lock.lock();
    tokens.add(await env.server.command("GET", "lock:{job}"));
    await lock.release();
  }
  assert.equal(tokens.size, 3);
});

eachClient("scripts run by EVALSHA and reload after SCRIPT FLUSH", async (env) => {
  const lock = new RedisLock(await env.client(), "job");
  await lock.lock();
  await lock.release();
  await env.server.command("SCRIPT", "FLUSH");
  await lock.lock();
  await lock.release();
  assert.ok(await commandCalls(env.server, "evalsha") >= 4);
  assert.equal(
    await commandCalls(env.server, "eval"),
    4,
    "acquire and release each fall back to EVAL once per flush",
  );
});

eachClient(
  "RedisLock and RedisSpinLock of one name exclude each other, and a spin release wakes a RedisLock waiter",
  async (env) => {
    const spin = new RedisSpinLock(await env.client(), "job");
    const lock = new RedisLock(await env.client(), "job");
    await spin.lock();
    assert.equal(await lock.acquire({ blocking: false }), false);
    const acquired = lock.acquire({ blockingTimeout: 10_000 });
    while (await subscribers(env.server, CHANNEL) === 0) await delay(5);
    const releasedAt = performance.now();
    await spin.release();
    assert.equal(await acquired, true);
    assert.ok(performance.now() - releasedAt < 500);
    assert.equal(await spin.acquire({ blocking: false }), false);
    await lock.release();
  },
);
