/**
 * Review 2 of RedisSemaphore (#17) and RedisReadWriteLock (#18): each test
 * proves one problem found, by asserting TODAY's (wrong) behaviour; its
 * messages say what the behaviour should be. When a problem is fixed, its
 * test fails: turn its assertions around then.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { RedisLock, RedisReadWriteLock, RedisSemaphore } from "../mod.ts";
import { delay, testEnv, until } from "./harness/env.ts";
import { semaphoreKeys } from "../lib/redis/_semaphore_keys.ts";
import { readWriteKeys } from "../lib/redis/_rw_keys.ts";

const SEM = semaphoreKeys("sem");
const RW = readWriteKeys("rw");

async function liveHolders(env: Awaited<ReturnType<typeof testEnv>>): Promise<number> {
  const [s, us] = await env.server.command("TIME") as string[];
  const now = Number(s) * 1000 + Math.floor(Number(us) / 1000);
  return Number(await env.server.command("ZCOUNT", SEM.holders, `(${now}`, "+inf"));
}

// Finding 1 (medium, docs vs behaviour): docs/semaphore.md, "Different limits for one name",
// says "Each caller is admitted only while fewer holders than its own `limit` hold … callers
// with a smaller limit wait while more than theirs hold". A release hands its permit on by the
// RELEASER's limit, ignoring the waiter's own: a `limit: 1` caller (used as "alone") is
// admitted next to another holder.
test("review2: a limit-1 waiter is handed a permit while another holder holds", async () => {
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
    const holders = await liveHolders(env);
    assert.equal(
      got && holders === 2,
      true,
      `TODAY: the limit-1 caller holds alongside ${
        holders - 1
      } other holder(s). SHOULD: it keeps ` +
        "waiting while a holder holds (a hand-off must respect the waiter's own limit, e.g. " +
        "carried in its token like its ttl), or docs/semaphore.md must say hand-offs ignore " +
        "the waiter's limit",
    );
    await alone.release();
    await big[1].release();
  } finally {
    await env.close();
  }
});

// Finding 2 (low, bad input): `fair: undefined` is not "the default" for the semaphore (nor
// for RedisLock): `{ ...defaults, ...options }` overwrites the class default `fair: true` with
// undefined, and `lockSettings` then applies the generic default `false`. Every other option
// treats undefined as its default; here a caller forwarding an unset option
// (`{ limit, fair: opts.fair }`) silently gets race mode: no FIFO, no hand-off.
test("review2: { fair: undefined } turns a RedisSemaphore (and RedisLock) into race mode", async () => {
  const env = await testEnv();
  try {
    const client = await env.client();
    const explicit = new RedisSemaphore(client, "sem", { limit: 2, fair: undefined });
    const plain = new RedisSemaphore(client, "sem", { limit: 2 });
    const lock = new RedisLock(client, "lock", { fair: undefined });
    assert.equal(plain.fair, true);
    assert.equal(
      explicit.fair,
      false,
      "TODAY: fair is false. SHOULD: undefined means the default, fair: true, as for every other option",
    );
    assert.equal(lock.fair, false, "TODAY: same for RedisLock; SHOULD: true");
  } finally {
    await env.close();
  }
});

// Finding 3 (low, keys left behind): the holders sorted set's (and the readers' set's) TTL
// only ever grows to the longest lease written; a release removes its member but leaves the
// TTL. Once a long-ttl holder has released and a short-ttl holder has died, nobody holds,
// yet the key (with the dead member) stays until the RELEASED holder's lease would have
// ended (+500 ms), here about a minute, not ~500 ms after the last live lease. Issue 17/18:
// "no key left behind once nobody holds or waits".
test("review2: semaphore holders key outlives every live lease by a released holder's ttl", async () => {
  const env = await testEnv();
  try {
    const client = await env.client();
    const long = new RedisSemaphore(client, "sem", { limit: 2, ttl: 60_000 });
    const dying = new RedisSemaphore(client, "sem", { limit: 2, ttl: 300, autoExtend: false });
    await long.lock();
    await dying.lock(); // "dies": never renews, never releases
    await long.release();
    await delay(1_500); // the dead holder's lease (300 ms) + the slack (500 ms) are long over
    assert.equal(await liveHolders(env), 0, "nobody holds");
    const pttl = Number(await env.server.command("PTTL", SEM.holders));
    assert.equal(
      pttl > 50_000,
      true,
      `TODAY: ${SEM.holders} still exists with PTTL ${pttl} ms. SHOULD: gone ~500 ms after the ` +
        "last live lease (e.g. a release re-aims the TTL at the highest remaining score + slack)",
    );
  } finally {
    await env.close();
  }
});

test("review2: read-write lock readers key outlives every live lease by a released reader's ttl", async () => {
  const env = await testEnv();
  try {
    const client = await env.client();
    const long = new RedisReadWriteLock(client, "rw", { ttl: 60_000 }).readLock();
    const dying = new RedisReadWriteLock(client, "rw", { ttl: 300, autoExtend: false }).readLock();
    await long.lock();
    await dying.lock();
    await long.release();
    await delay(1_500);
    const pttl = Number(await env.server.command("PTTL", RW.readers));
    assert.equal(
      pttl > 50_000,
      true,
      `TODAY: ${RW.readers} still exists with PTTL ${pttl} ms although no reader is live. ` +
        "SHOULD: gone ~500 ms after the last live reader's lease",
    );
  } finally {
    await env.close();
  }
});

// Finding 4 (low, docs): a nested read in one flow deadlocks behind a writer that queued in
// between (arrival order puts the second read behind the writer, the writer waits for the
// first read, which waits for the second). Inherent to a fair read-write lock without
// re-entrancy, but docs/rwlock.md only warns about upgrades; it should say that a holder must
// not take another read lock of the same name while holding one (or offer a re-entrant read).
test("review2: a nested read lock deadlocks behind a writer queued in between", async () => {
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
    assert.equal(
      inner,
      false,
      "TODAY: the nested read waits behind the writer until it times out (with the default " +
        "blockingTimeout, 60 s). SHOULD: documented in docs/rwlock.md next to the upgrade rule",
    );
    await outer.release();
    assert.equal(await writing, true);
    await writer.release();
  } finally {
    await env.close();
  }
});
