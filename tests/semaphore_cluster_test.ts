import { after, test } from "node:test";
import assert from "node:assert/strict";
import { type LockClient, RedisSemaphore } from "../mod.ts";
import { lockKeys } from "../lib/redis/_keys.ts";
import { semaphoreKeys } from "../lib/redis/_semaphore_keys.ts";
import { CLUSTER_KINDS, type RedisCluster, startCluster } from "./harness/cluster.ts";
import { delay, until } from "./harness/env.ts";
import type { Reply } from "./harness/redis.ts";

// One cluster for the whole file, started by the first test that needs it.
let shared: Promise<RedisCluster> | undefined;
const cluster = () => shared ??= startCluster();
after(async () => await (await shared?.catch(() => undefined))?.stop());

interface Env {
  readonly cluster: RedisCluster;
  /** A semaphore name of this test and client kind only. */
  readonly name: string;
  client(): Promise<LockClient>;
}

function eachKind(title: string, fn: (env: Env) => Promise<void>): void {
  for (const kind of CLUSTER_KINDS) {
    test(`${kind.name}: ${title}`, { timeout: 30_000 }, async () => {
      const closers: Array<() => Promise<void>> = [];
      const env: Env = {
        cluster: await cluster(),
        name: `sem-${title.split(" ").slice(0, 3).join("-")}:${kind.name}`,
        async client() {
          const { client, close } = await kind.connect(env.cluster);
          closers.push(close);
          return client;
        },
      };
      try {
        await fn(env);
      } finally {
        await Promise.allSettled(closers.map((close) => close()));
      }
    });
  }
}

/** Runs a command on the master that owns `key` now. */
async function onOwner(c: RedisCluster, key: string, ...args: string[]): Promise<Reply> {
  return await c.node(await c.masterOf(await c.keyslot(key))).command(...args);
}

/** How many of the semaphore's keys exist. */
async function keysLeft(env: Env): Promise<number> {
  const { holders, queue, racers } = semaphoreKeys(env.name);
  return Number(await onOwner(env.cluster, holders, "EXISTS", holders, queue, racers));
}

test("every key and channel of a semaphore share one slot, apart from the lock's keys", async () => {
  const c = await cluster();
  for (const name of ["{", "}{", "a{b}c", "{{x}}", "%7B", "sem:{x}", "ключ{}"]) {
    const { holders, queue, racers, channel, grants } = semaphoreKeys(name);
    const all = [holders, queue, racers, channel, grants];
    const slots = await Promise.all(all.map((k) => c.keyslot(k)));
    assert.equal(new Set(slots).size, 1, `${JSON.stringify(name)}: slots ${slots}`);
    const lock = Object.values(lockKeys(name));
    assert.deepEqual(all.filter((k) => lock.includes(k)), [], "no key shared with the lock");
  }
});

eachKind("contenders on their own connections keep to the limit", async (env) => {
  let inside = 0;
  let most = 0;
  let entries = 0;
  const clients = await Promise.all(Array.from({ length: 6 }, () => env.client()));
  await Promise.all(clients.map(async (client) => {
    for (let round = 0; round < 3; round++) {
      await new RedisSemaphore(client, env.name, { limit: 2 }).run(async () => {
        most = Math.max(most, ++inside);
        entries++;
        await delay(5);
        inside--;
      }, { blockingTimeout: 20_000 });
    }
  }));
  assert.equal(most, 2);
  assert.equal(entries, 18);
  assert.equal(await keysLeft(env), 0);
});

eachKind(
  "waiters on their own connections take the permit in the order they queued",
  async (env) => {
    const holder = new RedisSemaphore(await env.client(), env.name, { limit: 1 });
    await holder.lock();
    const { holders, queue } = semaphoreKeys(env.name);
    const queued = async () =>
      Number(await onOwner(env.cluster, holders, "ZCOUNT", queue, "(0", "+inf"));
    const order: number[] = [];
    const waits: Promise<boolean>[] = [];
    for (let i = 0; i < 4; i++) {
      const sem = new RedisSemaphore(await env.client(), env.name, { limit: 1 });
      waits.push(
        sem.acquire({ blockingTimeout: 20_000 }).then(async (ok) => {
          order.push(i);
          await sem.release();
          return ok;
        }),
      );
      await until(async () => await queued() === i + 1, `${i + 1} queued`);
    }
    await holder.release();
    assert.deepEqual(await Promise.all(waits), [true, true, true, true]);
    assert.deepEqual(order, [0, 1, 2, 3], "first come, first served");
    assert.equal(await keysLeft(env), 0);
  },
);

eachKind("race-mode waiters are woken by the release's sharded message", async (env) => {
  const opts = { limit: 1, fair: false };
  const holder = new RedisSemaphore(await env.client(), env.name, opts);
  await holder.lock();
  const waiter = new RedisSemaphore(await env.client(), env.name, opts);
  const acquired = waiter.acquire({ blockingTimeout: 10_000 });
  const { holders, racers, channel } = semaphoreKeys(env.name);
  const subscribed = async () =>
    (await onOwner(env.cluster, holders, "PUBSUB", "SHARDNUMSUB", channel) as Reply[])[1] === 1;
  await until(subscribed, "subscribed on the slot's master");
  await until(async () => await onOwner(env.cluster, holders, "EXISTS", racers) === 1, "raced");
  const releasedAt = performance.now();
  await holder.release();
  assert.equal(await acquired, true);
  const gap = performance.now() - releasedAt;
  assert.ok(gap < 500, `woken ${gap.toFixed(0)} ms after the release`);
  await waiter.release();
});

eachKind(
  "an aborted waiter leaves no queue entry; a dead holder's permit comes back",
  async (env) => {
    const holder = new RedisSemaphore(await env.client(), env.name, {
      limit: 1,
      ttl: 600,
      autoExtend: false,
    });
    await holder.lock(); // and never releases
    const controller = new AbortController();
    const aborted = new RedisSemaphore(await env.client(), env.name, { limit: 1 });
    const waiting = aborted.acquire({ signal: controller.signal });
    const { holders, queue } = semaphoreKeys(env.name);
    await until(async () => await onOwner(env.cluster, holders, "EXISTS", queue) === 1, "queued");
    controller.abort(new Error("stop"));
    await assert.rejects(waiting, /stop/);
    assert.equal(await onOwner(env.cluster, holders, "EXISTS", queue), 0);
    const waiter = new RedisSemaphore(await env.client(), env.name, { limit: 1 });
    assert.equal(await waiter.acquire({ blockingTimeout: 10_000 }), true);
    assert.equal(await waiter.available(), 0);
    await waiter.release();
    assert.equal(await keysLeft(env), 0);
  },
);
