/**
 * The `prefix` option: two applications sharing one Redis, each with a lock
 * (semaphore, read-write lock) of the same name, never touch each other's
 * keys; in fair mode each queue hands on only to its own waiters; and on a
 * cluster every key of one prefixed name still shares one slot.
 */

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { type LockClient, RedisLock, RedisReadWriteLock, RedisSemaphore } from "../mod.ts";
import { lockKeys } from "../lib/redis/_keys.ts";
import { semaphoreKeys } from "../lib/redis/_semaphore_keys.ts";
import { readWriteKeys } from "../lib/redis/_rw_keys.ts";
import { CLUSTER_KINDS, type RedisCluster, startCluster } from "./harness/cluster.ts";
import { eachClient, until } from "./harness/env.ts";

eachClient("prefix: two applications' locks of one name are independent", async (env) => {
  const client = await env.client();
  const one = new RedisLock(client, "job");
  const two = new RedisLock(client, "job", { prefix: "app2:" });
  assert.equal(await one.acquire({ blocking: false }), true);
  assert.equal(await two.acquire({ blocking: false }), true);
  assert.equal(
    await new RedisLock(client, "job", { prefix: "app2:" }).acquire({ blocking: false }),
    false,
  );
  const keys = await env.server.command("KEYS", "*") as string[];
  assert.deepEqual(keys.sort(), ["app2:{job}", "lock:{job}"]);
  await one.release();
  assert.equal(await two.locked(), true);
  await two.release();
  assert.deepEqual(await env.server.command("KEYS", "*"), []);
});

eachClient(
  "prefix in fair mode: a release hands on only to its own application's waiter",
  async (env) => {
    const make = async (prefix: string | undefined, label: string) =>
      new RedisLock(await env.client(), "job", { prefix, label, handoffTimeout: 2_000 });
    const [h1, w1, h2, w2] = [
      await make(undefined, "h1"),
      await make(undefined, "w1"),
      await make("app2:", "h2"),
      await make("app2:", "w2"),
    ];
    await h1.lock();
    await h2.lock();
    let w2done = false;
    const waiting1 = w1.lock();
    const waiting2 = w2.lock().then(() => w2done = true);
    const client = await env.client();
    await until(
      async () => (await RedisLock.inspect(client, "job")).waiters.length === 1,
      "w1 queued",
    );
    await until(
      async () =>
        (await RedisLock.inspect(client, "job", { prefix: "app2:" })).waiters.length === 1,
      "w2 queued",
    );
    assert.deepEqual(
      (await RedisLock.inspect(client, "job")).waiters.map((w) => w.identity?.label),
      ["w1"],
    );
    await h1.release();
    await waiting1;
    const two = await RedisLock.inspect(client, "job", { prefix: "app2:" });
    assert.deepEqual(two.holders.map((h) => h.identity?.label), ["h2"]);
    assert.deepEqual(two.waiters.map((w) => w.identity?.label), ["w2"]);
    assert.equal(w2done, false);
    await h2.release();
    await waiting2;
    await w1.release();
    await w2.release();
    assert.deepEqual(await env.server.command("KEYS", "*"), []);
  },
);

eachClient(
  "prefix: semaphores and read-write locks of one name are independent too",
  async (env) => {
    const client = await env.client();
    const sems = [undefined, "app2:"].map((prefix) =>
      new RedisSemaphore(client, "x", { limit: 1, prefix })
    );
    const writers = [undefined, "app2:"].map((prefix) =>
      new RedisReadWriteLock(client, "x", { prefix }).writeLock()
    );
    for (const held of [...sems, ...writers]) {
      assert.equal(
        await held.acquire({ blocking: false }),
        true,
      );
    }
    const keys = await env.server.command("KEYS", "*") as string[];
    assert.deepEqual(keys.sort(), [
      "app2:rwlock:{x}:writer",
      "app2:sem:{x}:holders",
      "rwlock:{x}:writer",
      "sem:{x}:holders",
    ]);
    for (const held of [...sems, ...writers]) await held.release();
    assert.deepEqual(await env.server.command("KEYS", "*"), []);
  },
);

// One cluster for the cluster tests, started by the first that needs it.
let shared: Promise<RedisCluster> | undefined;
const cluster = () => shared ??= startCluster();
after(async () => await (await shared?.catch(() => undefined))?.stop());

test("prefix: every key and channel of one prefixed name shares one cluster slot", async () => {
  const c = await cluster();
  for (const prefix of ["app2:", "a:b:", "", "x"]) {
    const all = [
      ...Object.values(lockKeys("n{a}", prefix)),
      ...Object.values(semaphoreKeys("n{a}", prefix)),
      ...Object.values(readWriteKeys("n{a}", prefix)),
    ];
    const slots = new Set(await Promise.all(all.map((k) => c.keyslot(k))));
    assert.equal(slots.size, 1, prefix);
  }
});

for (const kind of CLUSTER_KINDS) {
  test(`${kind.name}: prefix isolates two applications' fair locks on a cluster`, {
    timeout: 30_000,
  }, async () => {
    const c = await cluster();
    const closers: Array<() => Promise<void>> = [];
    const client = async (): Promise<LockClient> => {
      const { client, close } = await kind.connect(c);
      closers.push(close);
      return client;
    };
    try {
      const name = `prefixed:${kind.name}`;
      const make = async (prefix: string | undefined, label: string) =>
        new RedisLock(await client(), name, { prefix, label, handoffTimeout: 2_000 });
      const [h1, w1, h2] = [
        await make(undefined, "h1"),
        await make(undefined, "w1"),
        await make("app2:", "h2"),
      ];
      await h1.lock();
      assert.equal(
        await h2.acquire({ blocking: false }),
        true,
        "the other application's lock is free",
      );
      const waiting = w1.lock();
      const reader = await client();
      await until(
        async () => (await RedisLock.inspect(reader, name)).waiters.length === 1,
        "w1 queued",
      );
      await h1.release();
      await waiting;
      assert.deepEqual(
        (await RedisLock.inspect(reader, name)).holders.map((h) => h.identity?.label),
        ["w1"],
      );
      assert.deepEqual(
        (await RedisLock.inspect(reader, name, { prefix: "app2:" })).holders.map((h) =>
          h.identity?.label
        ),
        ["h2"],
      );
      await w1.release();
      await h2.release();
    } finally {
      await Promise.allSettled(closers.map((close) => close()));
    }
  });
}
