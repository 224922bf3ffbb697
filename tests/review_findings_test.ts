/**
 * Review of the issue-16 protocol change (per-process hand-off channel, the
 * racers mark, one sorted set for queue + liveness, forced release).
 *
 * Each test PROVES a finding: it asserts the behaviour as it is today and
 * says in its message what it should be. They pass against the reviewed
 * code; a fix makes the marked assertion fail (flip it then).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { type LockClient, type RedisDriver, RedisLock, RedisSpinLock } from "../mod.ts";
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

// F1 (low): `redis-lock status` counts a dead fair waiter as waiting.
// STATUS counts every member of the queue with a positive score; a waiter
// whose liveness deadline (`!token`, score -deadline) has passed stays there
// until a script calls live_head, which only happens when the lock is free
// (fair_acquire) or released. While the lock is held and a live waiter keeps
// the queue alive, a killed waiter is reported as waiting indefinitely.
test("F1: status counts a fair waiter whose liveness deadline passed", async () => {
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
    const dead = `${crypto.randomUUID()}@deadbeefdeadbeef.30000`;
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
    assert.equal(
      status.waiters,
      2,
      "FINDING: status reports 2 waiters; only 1 is alive (expected 1)",
    );
    await holder.release(); // live_head drops the dead one, hands to the live one
    assert.equal(await liveWait, true);
    assert.equal((await readStatus(cli, name)).waiters, 0);
    await live.release();
  } finally {
    await closeRedis(cli);
    await env.close();
  }
});

// F2 (low, docs): docs/cli.md says "`--spin` waiters are not counted", but
// `redis-lock run --spin` makes a RedisSpinLock with fair = !--no-fair, i.e.
// fair by default: its waiter queues, and status counts it.
test("F2: a `run --spin` waiter (fair spin lock) is counted by status, docs say not", async () => {
  const env = await testEnv();
  const cli = await connectRedis(env.server.url);
  try {
    const holder = new RedisLock(await env.client(), "sp");
    await holder.lock();
    // What cli/run.ts builds for `--spin` without `--no-fair`.
    const spin = new RedisSpinLock(await env.client(), "sp", { fair: true, autoExtend: false });
    const waiting = spin.acquire({ blockingTimeout: 10_000 });
    await until(async () => await queued(env, "sp") === 1, "spin waiter queued");
    assert.equal((await readStatus(cli, "sp")).waiters, 1, "the --spin waiter is counted");
    const doc = readFileSync(new URL("../docs/cli.md", import.meta.url), "utf8");
    assert.match(doc, /`--spin` waiters are not counted/, "FINDING: docs/cli.md says otherwise");
    await holder.release();
    assert.equal(await waiting, true);
    await spin.release();
  } finally {
    await closeRedis(cli);
    await env.close();
  }
});

// F3 (low, docs): docs/design.md's fair-mode section still describes the
// removed `lock:{<name>}:alive` set as where liveness deadlines live.
test("F3: design.md's fair-mode section still names the removed :alive key", () => {
  const doc = readFileSync(new URL("../docs/design.md", import.meta.url), "utf8");
  const fair = doc.slice(doc.indexOf("## Fair mode"), doc.indexOf("## Where it lives"));
  assert.match(fair, /lock:\{<name>\}:alive/, "FINDING: stale reference to the :alive key");
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

// F4 (medium-low, pre-existing, not from this change): a local hand-off made
// by a LEAVING waiter's clean-up release is dropped. acquisition()'s finally
// calls ops.release(token) and ignores its outcome; when that release owns
// the key (a hand-off reached the waiter as it gave up) and the next head is
// a waiter of the same process, RELEASE replies {1, token, ...} and publishes
// nothing, so nobody calls deliverLocal(): the next waiter finds the lock only
// at its next refresh (handoffTimeout / 3 later, 1 s by default) while the key
// already holds its token. Fix: route the clean-up through the same
// "deliver local hand-off" step as LockCore.release (e.g. let
// HolderOps.release deliver it, or have acquisition() call deliverLocal).
test("F4: a local hand-off made by a leaving waiter's clean-up release is never delivered", async () => {
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
    await delay(50);
    await holder.release(); // local hand-off to A, who has left: key = A's token
    gate.open(); // A's clean-up release: A owns the key, hands it on to B
    await until(async () => await queued(env, name) === 0, "A's release handed on");
    const handedAt = performance.now();
    assert.notEqual(await env.server.command("GET", key), null, "the key holds B's token");
    await delay(1_000);
    assert.equal(
      next.held,
      false,
      "FINDING: B was handed the lock (its token is in the key) but was not told; " +
        "it should hold it at once",
    );
    assert.equal(await nextWait, true);
    const late = performance.now() - handedAt;
    assert.ok(late > 1_000, `B took the lock ${Math.round(late)} ms after it was handed it`);
    assert.ok((await leaving) instanceof Error);
    await next.release();
  } finally {
    await env.close();
  }
});
