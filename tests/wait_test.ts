import assert from "node:assert/strict";
import { type RedisDriver, RedisLock } from "../mod.ts";
import { RECHECK_INTERVAL_MS } from "../lib/wait/_pubsub_wait.ts";
import { resolveDriver } from "../lib/clients/lock_client.ts";
import { commandCalls, delay, eachClient, queued, subscribers } from "./harness/env.ts";

const CHANNEL = "lock:{job}:wake";

// Both wait loops: fair (the default) and the classic race (fair: false).
for (const fair of [true, false]) {
  const mode = fair ? "fair" : "non-fair";
  eachClient(
    `${mode}: a release between the failed attempt and the subscription still wakes the waiter`,
    async (env) => {
      const holder = new RedisLock(await env.client(), "job", { fair });
      await holder.lock();
      const base = resolveDriver(await env.client());
      // The holder releases while the waiter's SUBSCRIBE is on its way.
      const racing: RedisDriver = {
        ...base,
        createSubscriber: async (events) => {
          const sub = await base.createSubscriber(events);
          return {
            ...sub,
            subscribe: async (channel) => {
              await holder.release();
              await sub.subscribe(channel);
            },
          };
        },
      };
      const started = performance.now();
      assert.equal(
        await new RedisLock(racing, "job", { fair }).acquire({ blockingTimeout: 10_000 }),
        true,
      );
      const waited = performance.now() - started;
      assert.ok(waited < 500, `acquired after ${waited.toFixed(0)} ms`);
    },
  );

  eachClient(
    `${mode}: a waiter acquires right when a dead holder's lease runs out`,
    async (env) => {
      const dead = new RedisLock(await env.client(), "job", { ttl: 600, autoExtend: false, fair });
      await dead.lock(); // and never releases
      const started = performance.now();
      const waiter = new RedisLock(await env.client(), "job", { fair });
      assert.equal(await waiter.acquire({ blockingTimeout: 5_000 }), true);
      const waited = performance.now() - started;
      assert.ok(waited >= 450 && waited < 900, `acquired after ${waited.toFixed(0)} ms`);
      await waiter.release();
    },
  );

  eachClient(
    `${mode}: a lost wake-up (key deleted without publish, no TTL) is found by the re-check`,
    async (env) => {
      await env.server.command("SET", "lock:{job}", "someone");
      const waiter = new RedisLock(await env.client(), "job", { fair });
      const acquired = waiter.acquire({ blockingTimeout: 10_000 });
      while (await subscribers(env.server, CHANNEL) === 0) await delay(5);
      const deletedAt = performance.now();
      await env.server.command("DEL", "lock:{job}");
      assert.equal(await acquired, true);
      const waited = performance.now() - deletedAt;
      assert.ok(waited <= RECHECK_INTERVAL_MS + 500, `acquired after ${waited.toFixed(0)} ms`);
      await waiter.release();
    },
  );

  eachClient(
    `${mode}: acquire() returns false after the blocking timeout, with a last attempt at the deadline`,
    async (env) => {
      const holder = new RedisLock(await env.client(), "job", { fair });
      await holder.lock();
      const waiter = new RedisLock(await env.client(), "job", { fair });
      const started = performance.now();
      assert.equal(await waiter.acquire({ blockingTimeout: 300 }), false);
      const waited = performance.now() - started;
      assert.ok(waited >= 300 && waited < 800, `gave up after ${waited.toFixed(0)} ms`);
      assert.equal(await subscribers(env.server, CHANNEL), 0);
      assert.equal(await holder.owned(), true);
      await holder.release();
    },
  );

  eachClient(
    `${mode}: local waiters acquire in arrival order and a release costs one retry per process`,
    async (env) => {
      const client = await env.client();
      const holder = new RedisLock(client, "job", { fair });
      await holder.lock();
      const order: number[] = [];
      const waiters = Array.from({ length: 8 }, () => new RedisLock(client, "job", { fair }));
      const done: Promise<void>[] = [];
      for (const [i, waiter] of waiters.entries()) {
        done.push(
          waiter.acquire({ blockingTimeout: 10_000 }).then(async (ok) => {
            assert.equal(ok, true);
            order.push(i);
            await delay(5);
            await waiter.release();
          }),
        );
        await queued(client, i + 1); // arrival order
      }
      while (await subscribers(env.server, CHANNEL) === 0) await delay(5);
      const before = await commandCalls(env.server, "evalsha");
      await holder.release();
      await Promise.all(done);
      const attempts = (await commandCalls(env.server, "evalsha")) - before;
      assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
      // Per hand-off: one release, the head's winning attempt and the next head's
      // failed attempt. Waking every waiter would cost about 8 attempts each.
      assert.ok(attempts <= 8 * 3 + 1, `${attempts} scripts for 8 hand-offs`);
    },
  );

  eachClient(
    `${mode}: an aborted head passes the wake-up to the next local waiter`,
    async (env) => {
      const client = await env.client();
      const holder = new RedisLock(client, "job", { fair });
      await holder.lock();
      const controller = new AbortController();
      const head = new RedisLock(client, "job", { fair }).acquire({ signal: controller.signal });
      await queued(client, 1);
      const next = new RedisLock(client, "job", { fair });
      const nextAcquired = next.acquire({ blockingTimeout: 10_000 });
      await queued(client, 2);
      controller.abort(new Error("stop"));
      await assert.rejects(head, /stop/);
      const releasedAt = performance.now();
      await holder.release();
      assert.equal(await nextAcquired, true);
      assert.ok(performance.now() - releasedAt < 500);
      await next.release();
    },
  );

  eachClient(
    `${mode}: when the head waiter takes the lock and dies, the next local waiter acquires at its lease end`,
    async (env) => {
      const client = await env.client();
      const holder = new RedisLock(client, "job", { fair });
      await holder.lock();
      const head = new RedisLock(client, "job", { ttl: 400, autoExtend: false, fair });
      const headAcquired = head.acquire({ blockingTimeout: 10_000 });
      await queued(client, 1);
      const next = new RedisLock(client, "job", { fair });
      const nextAcquired = next.acquire({ blockingTimeout: 10_000 });
      await queued(client, 2);
      await holder.release();
      assert.equal(await headAcquired, true); // and it never releases
      const started = performance.now();
      assert.equal(await nextAcquired, true);
      const waited = performance.now() - started;
      assert.ok(waited < 900, `next waiter acquired ${waited.toFixed(0)} ms after the head`);
      await next.release();
    },
  );
}
