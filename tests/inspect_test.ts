/**
 * `inspect()`: who holds a lock, a semaphore or a read-write lock, and who
 * waits for it, in order, read in one script from any process.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { type LockInspection, RedisLock, RedisReadWriteLock, RedisSemaphore } from "../mod.ts";
import { eachClient, testEnv, until } from "./harness/env.ts";
import { type Child, startChild } from "./harness/process.ts";

const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

eachClient("RedisLock.inspect: the holder, and the queued waiters oldest first", async (env) => {
  const ttl = 20_000;
  const holder = new RedisLock(await env.client(), "job", { ttl, fencing: true, label: "h" });
  await holder.lock();
  const waiting: Promise<unknown>[] = [];
  const waiters = ["w1", "w2", "w3"].map(async (label) =>
    new RedisLock(await env.client(), "job", { label, handoffTimeout: 2_000 })
  );
  for (const [i, made] of waiters.entries()) {
    waiting.push((await made).lock());
    await until(
      async () => (await RedisLock.inspect(await env.client(), "job")).waiters.length === i + 1,
      "queued",
    );
  }
  const client = await env.client();
  const state = await RedisLock.inspect(client, "job");
  assert.equal(state.name, "job");
  assert.equal(state.holders.length, 1);
  const [h] = state.holders;
  assert.equal(h.identity?.label, "h");
  assert.equal(h.identity?.pid, process.pid);
  assert.match(h.identity?.runtime ?? "", new RegExp(`^${RUNTIME} `));
  assert.equal(h.fencingToken, holder.fencingToken);
  assert.ok(h.leaseLeft > 0 && h.leaseLeft <= ttl, `lease left ${h.leaseLeft}`);
  assert.ok(h.age! >= 0 && h.age! < 10_000 && h.acquiredAt! + h.age! === state.time);
  assert.equal(h.mode, undefined);
  assert.deepEqual(state.waiters.map((w) => w.identity?.label), ["w1", "w2", "w3"]);
  const waited = state.waiters.map((w) => w.waited);
  assert.ok(waited[0] >= waited[1] && waited[1] >= waited[2] && waited[2] >= 0, `${waited}`);
  assert.deepEqual(
    (await RedisLock.inspect(client, "job", { maxWaiters: 1 })).waiters.map((w) =>
      w.identity?.label
    ),
    ["w1"],
  );
  await holder.release();
  await waiting[0];
  const next = await RedisLock.inspect(client, "job");
  assert.equal(next.holders[0].identity?.label, "w1");
  assert.deepEqual(next.waiters.map((w) => w.identity?.label), ["w2", "w3"]);
  for (const [i, made] of waiters.entries()) {
    if (i > 0) await waiting[i];
    await (await made).release();
  }
  const empty = await RedisLock.inspect(client, "job");
  assert.deepEqual([empty.holders, empty.waiters], [[], []]);
  assert.deepEqual(await env.server.command("KEYS", "*"), ["lock:{job}:fence"]);
});

eachClient("inspect of a free name lists nobody and writes nothing", async (env) => {
  const client = await env.client();
  for (const inspect of [RedisLock.inspect, RedisSemaphore.inspect, RedisReadWriteLock.inspect]) {
    const state: LockInspection = await inspect(client, "none");
    assert.deepEqual([state.name, state.holders, state.waiters], ["none", [], []]);
    assert.ok(state.time > 1_600_000_000_000, "Redis time in ms");
  }
  assert.equal(await env.server.command("DBSIZE"), 0);
});

eachClient("a holder with identity: false is listed without identity or age", async (env) => {
  const lock = new RedisLock(await env.client(), "job", { identity: false });
  await lock.lock();
  const [h] = (await RedisLock.inspect(await env.client(), "job")).holders;
  assert.deepEqual(Object.keys(h).sort(), ["leaseLeft", "token"]);
  await lock.release();
});

eachClient("RedisSemaphore.inspect: every holder, and the waiters in order", async (env) => {
  const make = async (label: string) =>
    new RedisSemaphore(await env.client(), "s", { limit: 2, label, ttl: 15_000 });
  const [a, b, c, d] = [await make("a"), await make("b"), await make("c"), await make("d")];
  await a.lock();
  await b.lock();
  const cw = c.lock();
  await until(
    async () => (await RedisSemaphore.inspect(await env.client(), "s")).waiters.length === 1,
    "c queued",
  );
  const dw = d.lock();
  await until(
    async () => (await RedisSemaphore.inspect(await env.client(), "s")).waiters.length === 2,
    "d queued",
  );
  const state = await RedisSemaphore.inspect(await env.client(), "s");
  assert.deepEqual(state.holders.map((h) => h.identity?.label).sort(), ["a", "b"]);
  assert.ok(state.holders.every((h) => h.leaseLeft > 0 && h.leaseLeft <= 15_000 && h.age! >= 0));
  assert.deepEqual(state.waiters.map((w) => w.identity?.label), ["c", "d"]);
  await a.release();
  await cw;
  const after = await RedisSemaphore.inspect(await env.client(), "s");
  assert.deepEqual(after.holders.map((h) => h.identity?.label).sort(), ["b", "c"]);
  await b.release();
  await dw;
  await c.release();
  await d.release();
});

eachClient(
  "RedisReadWriteLock.inspect: readers or the writer, and each waiter's mode",
  async (env) => {
    const rw = new RedisReadWriteLock(await env.client(), "rw", { fencing: true });
    const [r1, r2, w, r3] = [rw.readLock(), rw.readLock(), rw.writeLock(), rw.readLock()];
    await r1.lock();
    await r2.lock();
    const queued = async (n: number) =>
      await until(
        async () =>
          (await RedisReadWriteLock.inspect(await env.client(), "rw")).waiters.length === n,
        `${n} queued`,
      );
    const ww = w.lock();
    await queued(1);
    const rw3 = r3.lock();
    await queued(2);
    const state = await RedisReadWriteLock.inspect(await env.client(), "rw");
    assert.deepEqual(state.holders.map((h) => h.mode), ["read", "read"]);
    assert.deepEqual(state.waiters.map((x) => x.mode), ["write", "read"]);
    await r1.release();
    await r2.release();
    await ww;
    const writing = await RedisReadWriteLock.inspect(await env.client(), "rw");
    assert.deepEqual(writing.holders.map((h) => [h.mode, h.token === writing.holders[0].token]), [[
      "write",
      true,
    ]]);
    assert.equal(writing.holders[0].fencingToken, w.fencingToken);
    assert.deepEqual(writing.waiters.map((x) => x.mode), ["read"]);
    await w.release();
    await rw3;
    await r3.release();
  },
);

test("inspect checks its arguments", async () => {
  const env = await testEnv();
  try {
    const client = await env.client();
    await assert.rejects(RedisLock.inspect(client, ""), RangeError);
    await assert.rejects(
      RedisLock.inspect(client, "x", { maxWaiters: -1 }),
      /options\.maxWaiters .* -1/,
    );
    await assert.rejects(RedisLock.inspect(client, "x", { maxWaiters: "1" as never }), TypeError);
    await assert.rejects(RedisSemaphore.inspect(client, "x", { prefix: "{" }), /options\.prefix/);
    await assert.rejects(
      RedisReadWriteLock.inspect(client, "x", { other: 1 } as never),
      /unknown option "other"/,
    );
    await assert.rejects(RedisLock.inspect({} as never, "x"), /client must be/);
  } finally {
    await env.close();
  }
});

test("inspect shows holders and waiters of other processes, in order", async () => {
  const env = await testEnv();
  const children: Child[] = [];
  try {
    const client = await env.client();
    for (const kind of ["lock", "sem", "write"] as const) {
      const inspect = kind === "lock"
        ? RedisLock.inspect
        : kind === "sem"
        ? RedisSemaphore.inspect
        : RedisReadWriteLock.inspect;
      const name = `p-${kind}`;
      const party = (label: string) => {
        const child = startChild("fixtures/who_party.ts", [
          env.server.url,
          kind,
          name,
          label,
          "30000",
        ]);
        children.push(child);
        return child;
      };
      const holder = party("A");
      await holder.waitFor("held");
      const waiters = [party("B")];
      await until(async () => (await inspect(client, name)).waiters.length === 1, "B queued");
      assert.equal((await inspect(client, name)).waiters[0].identity?.label, "B");
      waiters.push(party("C"));
      await until(async () => (await inspect(client, name)).waiters.length === 2, "C queued");
      const state = await inspect(client, name);
      assert.deepEqual(state.holders.map((h) => [h.identity?.label, h.identity?.pid]), [[
        "A",
        holder.process.pid,
      ]]);
      assert.deepEqual(
        state.waiters.map((w) => [w.identity?.label, w.identity?.pid]),
        [["B", waiters[0].process.pid], ["C", waiters[1].process.pid]],
      );
    }
  } finally {
    for (const child of children) child.process.kill("SIGKILL");
    await Promise.all(children.map((c) => c.exited));
    await env.close();
  }
});
