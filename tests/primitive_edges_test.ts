/**
 * Edges of the semaphore and the read-write lock found by review: mixed
 * limits, an option given as undefined, keys that must not outlive their
 * live leases, and a nested read behind a queued writer.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { RedisLock, RedisReadWriteLock, RedisSemaphore } from "../mod.ts";
import { liveMembers, testEnv, until } from "./harness/env.ts";
import { semaphoreKeys } from "../lib/redis/_semaphore_keys.ts";
import { readWriteKeys } from "../lib/redis/_rw_keys.ts";

const SEM = semaphoreKeys("sem");
const RW = readWriteKeys("rw");

test("with mixed limits a release hands its permit on by its own limit (documented): never more than the largest limit hold", async () => {
  const env = await testEnv();
  try {
    const client = await env.client();
    const big = [
      new RedisSemaphore(client, "sem", { limit: 3 }),
      new RedisSemaphore(client, "sem", { limit: 3 }),
    ];
    for (const s of big) await s.lock();
    const alone = new RedisSemaphore(await env.client(), "sem", { limit: 1 });
    const taking = alone.acquire({ blockingTimeout: 5_000 });
    await until(
      async () => Number(await env.server.command("ZCOUNT", SEM.queue, "(0", "+inf")) === 1,
      "the limit-1 caller queued",
    );
    await big[0].release(); // one limit-3 holder is left
    const got = await taking;
    const holders = await liveMembers(env.server, SEM.holders);
    assert.equal(got, true, "the limit-1 waiter was handed the permit");
    assert.equal(holders, 2, "beside one limit-3 holder: at most the largest limit");
    await alone.release();
    await big[1].release();
  } finally {
    await env.close();
  }
});

test("an option given as undefined takes its default: { fair: undefined } stays fair", async () => {
  const env = await testEnv();
  try {
    const client = await env.client();
    const explicit = new RedisSemaphore(client, "sem", { limit: 2, fair: undefined });
    const plain = new RedisSemaphore(client, "sem", { limit: 2 });
    const lock = new RedisLock(client, "lock", { fair: undefined });
    assert.equal(plain.fair, true);
    assert.equal(explicit.fair, true);
    assert.equal(lock.fair, true);
  } finally {
    await env.close();
  }
});

test("the semaphore's holders key does not outlive its live leases by a released holder's ttl", async () => {
  const env = await testEnv();
  try {
    const client = await env.client();
    const long = new RedisSemaphore(client, "sem", { limit: 2, ttl: 60_000 });
    const dying = new RedisSemaphore(client, "sem", { limit: 2, ttl: 300, autoExtend: false });
    await long.lock();
    await dying.lock(); // "dies": never renews, never releases
    await long.release();
    // Gone once the dead holder's lease (300 ms) and the slack (500 ms) are
    // over, not when the released holder's 60 s lease would have ended.
    const gone = async () => await env.server.command("EXISTS", SEM.holders) === 0;
    await until(gone, "no holders key left", 1_500);
    assert.equal(await liveMembers(env.server, SEM.holders), 0, "nobody holds");
  } finally {
    await env.close();
  }
});

test("the read-write lock's readers key does not outlive its live leases by a released reader's ttl", async () => {
  const env = await testEnv();
  try {
    const client = await env.client();
    const long = new RedisReadWriteLock(client, "rw", { ttl: 60_000 }).readLock();
    const dying = new RedisReadWriteLock(client, "rw", { ttl: 300, autoExtend: false }).readLock();
    await long.lock();
    await dying.lock();
    await long.release();
    const gone = async () => await env.server.command("EXISTS", RW.readers) === 0;
    await until(gone, "no readers key left", 1_500);
  } finally {
    await env.close();
  }
});

test("a nested read lock waits behind a writer queued in between (no re-entry, documented)", async () => {
  const env = await testEnv();
  try {
    const rw = new RedisReadWriteLock(await env.client(), "rw");
    const outer = await rw.readLock().lock();
    const writer = new RedisReadWriteLock(await env.client(), "rw").writeLock();
    const writing = writer.acquire({ blockingTimeout: 3_000 });
    await until(
      async () => Number(await env.server.command("ZCOUNT", RW.queue, "(0", "+inf")) === 1,
      "the writer queued",
    );
    const inner = await rw.readLock().acquire({ blockingTimeout: 1_000 });
    assert.equal(inner, false, "the inner read waits behind the writer, which waits for the outer");
    await outer.release();
    assert.equal(await writing, true);
    await writer.release();
  } finally {
    await env.close();
  }
});
