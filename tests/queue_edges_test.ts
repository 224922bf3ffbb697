/**
 * Edges of the fair queue found by review: what `redis-lock status` counts
 * as waiting, and a hand-off that reaches a waiter just as it gives up.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { type LockClient, type RedisDriver, RedisLock } from "../mod.ts";
import { resolveDriver } from "../lib/clients/lock_client.ts";
import { lockKeys } from "../lib/redis/_keys.ts";
import { FAIR_ACQUIRE, QUEUE_SLACK_MS } from "../lib/redis/_scripts.ts";
import { runScript } from "../lib/redis/_script_runner.ts";
import { readStatus } from "../cli/scripts.ts";
import { closeRedis, connectRedis } from "../cli/redis.ts";
import { delay, testEnv, until } from "./harness/env.ts";

async function queued(
  env: { server: { command(...a: string[]): Promise<unknown> } },
  name: string,
) {
  return Number(await env.server.command("ZCOUNT", lockKeys(name).queue, "(0", "+inf"));
}

test("status counts the live fair waiters, not one whose liveness deadline passed", async () => {
  const env = await testEnv();
  const cli = await connectRedis(env.server.url);
  try {
    const name = "st";
    const keys = lockKeys(name);
    const holder = new RedisLock(await env.client(), name);
    await holder.lock();
    const live = new RedisLock(await env.client(), name, { handoffTimeout: 3_000 });
    const liveWait = live.acquire({ blockingTimeout: 10_000 });
    await until(async () => await queued(env, name) === 1, "live waiter queued");
    // A waiter of another process that queues once and dies (handoffTimeout
    // 200 ms): exactly what its first failed attempt writes.
    const driver: RedisDriver = resolveDriver(await env.client());
    const dead = `${crypto.randomUUID()}@deadbeefdeadbeef.30000~0,1,,`;
    await runScript(driver, FAIR_ACQUIRE, [keys.key, keys.fence, keys.queue], [
      dead,
      "30000",
      "0",
      "200",
      "1",
      `${QUEUE_SLACK_MS}`,
    ]);
    await delay(1_200); // well past its deadline; the live waiter refreshed meanwhile
    const deadline = -Number(await env.server.command("ZSCORE", keys.queue, `!${dead}`));
    const redisNow = (await env.server.command("TIME") as string[]).map(Number);
    assert.ok(deadline < redisNow[0] * 1000, "the dead waiter's deadline has passed");
    const status = await readStatus(cli, name);
    assert.equal(status.waiters, 1, "only the live waiter");
    await holder.release(); // live_head drops the dead one, hands to the live one
    assert.equal(await liveWait, true);
    assert.equal((await readStatus(cli, name)).waiters, 0);
    await live.release();
  } finally {
    await closeRedis(cli);
    await env.close();
  }
});

/** `client`'s driver, whose commands are held while `hold` is set. */
function gated(client: LockClient) {
  const driver = resolveDriver(client);
  let open: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  const pass = async <T>(run: () => Promise<T>): Promise<T> => {
    if (gate) await gate;
    return await run();
  };
  const wrapped: RedisDriver = {
    evalsha: (sha, keys, args) => pass(() => driver.evalsha(sha, keys, args)),
    eval: (source, keys, args) => pass(() => driver.eval(source, keys, args)),
    createSubscriber: (events) => driver.createSubscriber(events),
    isTransient: driver.isTransient?.bind(driver),
  };
  return {
    driver: wrapped,
    hold() {
      gate = new Promise((resolve) => open = resolve);
    },
    open() {
      gate = undefined;
      open?.();
    },
  };
}

test("a hand-off that reaches a waiter as it gives up goes on at once to the next waiter of its process", async () => {
  const env = await testEnv();
  try {
    const name = "lh";
    const key = lockKeys(name).key;
    const opts = { handoffTimeout: 9_000 }; // a refresh every 3 s
    const holder = new RedisLock(await env.client(), name, opts);
    await holder.lock();
    const gate = gated(await env.client());
    const leaver = new RedisLock(gate.driver, name, opts);
    const controller = new AbortController();
    const leaving = leaver.acquire({ signal: controller.signal, blockingTimeout: 20_000 })
      .catch((err) => err);
    await until(async () => await queued(env, name) === 1, "A queued");
    const next = new RedisLock(await env.client(), name, opts);
    const nextWait = next.acquire({ blockingTimeout: 20_000 });
    await until(async () => await queued(env, name) === 2, "B queued");
    // A gives up; its clean-up release is held back until after H's release
    // handed it the lock (the "aborted just as it is granted" race).
    gate.hold();
    controller.abort(new Error("A gives up"));
    // A's acquire() settles once the grace for its held-back clean-up is over.
    assert.ok((await leaving) instanceof Error);
    await holder.release(); // local hand-off to A, who has left: key = A's token
    gate.open(); // A's clean-up release: A owns the key, hands it on to B
    await until(async () => await queued(env, name) === 0, "A's release handed on");
    const handedAt = performance.now();
    assert.notEqual(await env.server.command("GET", key), null, "the key holds B's token");
    assert.equal(await nextWait, true);
    const late = performance.now() - handedAt;
    assert.ok(late < 500, `B took the lock ${Math.round(late)} ms after it was handed it`);
    assert.equal(await next.owned(), true);
    await next.release();
  } finally {
    await env.close();
  }
});
