/**
 * Identity's edges: labels that are not well-formed text, a holder whose
 * clock runs ahead of Redis's, and a renewal that falls due during a release.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { RedisLock, RedisReadWriteLock, RedisSemaphore } from "../mod.ts";
import { EXTEND } from "../lib/redis/_scripts.ts";
import { delay, freeze, testEnv } from "./harness/env.ts";

test("a label cut inside an emoji (a lone surrogate) is carried with U+FFFD in its place", async () => {
  const env = await testEnv();
  try {
    const label = `deploy ${"😀".repeat(100)}`.slice(0, 200); // ends with half an emoji
    const lock = new RedisLock(await env.client(), "job", { label });
    await lock.lock();
    const [holder] = (await RedisLock.inspect(await env.client(), "job")).holders;
    assert.equal(holder.identity?.label, `${label.slice(0, -1)}\uFFFD`);
    await lock.release();
  } finally {
    await env.close();
  }
});

test("a holder's age is read from its lease when its clock runs ahead of Redis's", async () => {
  const env = await testEnv();
  const realNow = Date.now;
  try {
    const lock = new RedisLock(await env.client(), "job", { ttl: 30_000, label: "skewed" });
    Date.now = () => realNow() + 60_000; // this host's clock is a minute ahead
    try {
      await lock.lock();
    } finally {
      Date.now = realNow;
    }
    await delay(700); // well before the first renewal (10 s)
    const [holder] = (await RedisLock.inspect(await env.client(), "job")).holders;
    assert.ok(holder.age! >= 650 && holder.age! < 2_000, `held 700 ms, age ${holder.age} ms`);
    await lock.release();
  } finally {
    Date.now = realNow;
    await env.close();
  }
});

test("no record is left once release() resolves, even when a renewal falls due during the release", async () => {
  const env = await testEnv();
  try {
    const lock = new RedisLock(await env.client(), "job", { ttl: 900 }); // renews at ~300 ms
    const t0 = performance.now();
    await lock.lock();
    // Scripts lost (a restart, a failover), EXTEND loaded again by another
    // process: the release's EVALSHA fails and its EVAL goes out later, while
    // a stall (CLIENT PAUSE) lets the renewal timer fire meanwhile.
    await env.server.command("SCRIPT", "FLUSH");
    await env.server.command("SCRIPT", "LOAD", EXTEND.source);
    await delay(Math.max(0, t0 + 150 - performance.now()));
    await env.server.command("CLIENT", "PAUSE", "400", "ALL");
    await lock.release();
    assert.ok(performance.now() - t0 < 900, "released within the first lease");
    assert.deepEqual(await env.server.command("KEYS", "*"), []);
  } finally {
    await env.close();
  }
});

test("a renewal that a paused holder sends after its lease ended records nothing", async () => {
  const env = await testEnv();
  try {
    const client = await env.client();
    const options = { ttl: 300, label: "paused" };
    const holders = [
      new RedisLock(client, "l", options),
      new RedisSemaphore(client, "s", { ...options, limit: 1 }),
      new RedisReadWriteLock(client, "r", options).readLock(),
      new RedisReadWriteLock(client, "w", options).writeLock(),
    ];
    for (const holder of holders) await holder.lock();
    freeze(700); // the process stops past every lease; the renewals (due at 100 ms) are overdue
    await new Promise((resolve) => setTimeout(resolve, 0)); // overdue timers run: renewals go out late
    await holders[0].locked(); // same connection: the late renewals have had their answers
    assert.deepEqual(holders.map((h) => h.held), [false, false, false, false]);
    // (The holders' sets outlive their last lease by a short slack; no record may.)
    assert.deepEqual(await env.server.command("KEYS", "*:who:*"), []);
  } finally {
    await env.close();
  }
});
