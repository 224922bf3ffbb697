/**
 * A stale hand-off must not make a second holder (issue 13, item 1). A fair
 * hand-off holds the key for its waiter W for `handoffTimeout` only; when W
 * processes it later than that (its event loop was blocked, or its command
 * connection stalled), another waiter W2 may hold the lock by then. W's
 * `acquire()` must then keep waiting: it resolves true only for a holding
 * that Redis made and no later answer superseded, with the fencing token
 * Redis issued for it.
 *
 * Every test: a holder H, W queued first, W2 queued behind W; H releases
 * (the key holds W's token for 500 ms); W cannot act until W2 has taken the
 * lock after that expiry; then W must not report the lock, and gets it for
 * real once W2 releases. Fencing tokens: H 1, the hand-off to W 2, W2 3, W 4.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { type LockClient, type RedisDriver, RedisLock } from "../mod.ts";
import { resolveDriver } from "../lib/clients/lock_client.ts";
import { lockKeys } from "../lib/redis/_keys.ts";
import { SubscriberManager } from "../lib/wait/subscriber_manager.ts";
import { CLIENT_KINDS, type TestEnv, testEnv, until, within } from "./harness/env.ts";
import { eachKind } from "./harness/fault_modes.ts";
import { type Child, startChild } from "./harness/process.ts";
import { startProxy } from "./harness/proxy.ts";

const NAME = "stale";
const KEYS = lockKeys(NAME);
/** H's handoffTimeout: how long its release holds the key for W. */
const HOLDER_HANDOFF_MS = 500;
/** W's: it refreshes its place every 500 ms and stays live in the queue 1.5 s without one. */
const WAITER_HANDOFF_MS = 1_500;
/** W2's: it refreshes every 100 ms, so it takes the lock soon after the hand-off expired. */
const TAKER_HANDOFF_MS = 300;
/** node-redis v6 (RESP3), for the child-process scenarios. */
const KIND = CLIENT_KINDS[0];

async function queue(env: TestEnv): Promise<string[]> {
  return await env.server.command("ZRANGEBYSCORE", KEYS.queue, "(0", "+inf") as string[];
}

/**
 * Fencing tokens are max(counter + 1, Redis TIME in µs): a counter set ahead
 * of the clock makes them count 1, 2, 3 from here, so each test can tell
 * which holding took which token.
 */
const FENCE_BASE = 4_000_000_000_000_000;

async function seedFence(env: TestEnv): Promise<void> {
  await env.server.command("SET", KEYS.fence, `${FENCE_BASE}`);
}

async function fenceCounter(env: TestEnv): Promise<number> {
  return Number(await env.server.command("GET", KEYS.fence));
}

/** W2: queues behind W; resolves once it holds the lock (after the hand-off to W expired). */
async function queueTaker(env: TestEnv, signal: AbortSignal) {
  const taker = new RedisLock(await env.client(), NAME, {
    fencing: true,
    handoffTimeout: TAKER_HANDOFF_MS,
  });
  const taking = taker.acquire({ blockingTimeout: 20_000, signal });
  const settled = taking.catch(() => false);
  await until(async () => (await queue(env)).length === 2, "W2 queued behind W");
  return { taker, taking, settled };
}

/** What W reported when its acquire() resolved, as the child prints it. */
interface Outcome {
  readonly line: string;
  readonly result: boolean;
  readonly held: boolean;
  readonly fence: number;
}

function outcome(output: string): Outcome | undefined {
  const m = output.match(/^acquired (\w+) held=(\w+) fence=(\w+)$/m);
  if (!m) return undefined;
  return { line: m[0], result: m[1] === "true", held: m[2] === "true", fence: Number(m[3]) };
}

function lines(output: string, line: string): number {
  return output.split("\n").filter((l) => l === line).length;
}

/**
 * Whether W has processed the stale grant and, after it, the answer to one of
 * its commands (an attempt, or whatever a fix sends to check the grant): the
 * grant's message (or the local release's reply) came before a "W flushed"
 * line.
 */
function answeredAfterGrant(output: string): boolean {
  const lines = output.split("\n");
  const grant = lines.findIndex((l) => l === "W message grant" || l === "H release processed");
  return grant >= 0 && lines.slice(grant).some((l) => l.startsWith("W flushed "));
}

/**
 * Runs one child-process scenario of tests/fixtures/stale_waiter.ts (see
 * there): W (and for the local ones H) in the child, W2 here.
 */
async function blockedWaiter(scenario: string, waiterHandoff: number): Promise<void> {
  const env = await testEnv(KIND);
  await seedFence(env);
  const dir = mkdtempSync(join(tmpdir(), "redis-lock-stale-"));
  const go = join(dir, "go");
  const stop = new AbortController();
  let child: Child | undefined;
  let taking: Promise<unknown> | undefined;
  try {
    let holder: RedisLock | undefined;
    if (scenario.startsWith("published-")) {
      const options = { fencing: true, handoffTimeout: HOLDER_HANDOFF_MS };
      holder = new RedisLock(await env.client(), NAME, options);
      await holder.lock();
    }
    child = startChild("fixtures/stale_waiter.ts", [
      env.server.url,
      KIND.name,
      NAME,
      scenario,
      go,
      `${HOLDER_HANDOFF_MS}`,
      `${waiterHandoff}`,
    ]);
    const out = child.output;
    // Its second attempt follows its subscription: W is queued and asleep.
    await until(() => lines(out(), "W flushed attempt") >= 2, "W queued and asleep");
    const [w, ...others] = await queue(env);
    assert.deepEqual(others, [], "only W is queued");
    const t = await queueTaker(env, stop.signal);
    taking = t.settled;
    assert.equal((await queue(env))[0], w, "W is first in the queue");

    // Not child.process.kill(): on Deno it reports the child exited by the signal it handles.
    process.kill(child.process.pid!, "SIGUSR2");
    await child.waitFor("blocking");
    await holder?.release();
    assert.equal(await t.taking, true, "W2 took the lock");
    assert.equal(
      t.taker.fencingToken,
      FENCE_BASE + 3,
      "the lock was handed to W (fence 2) before W2 took it",
    );
    assert.equal(outcome(out()), undefined); // W is still blocked

    writeFileSync(go, "");
    await until(
      () => outcome(out()) !== undefined || answeredAfterGrant(out()),
      "W reported, or processed the hand-off and a later answer",
      20_000,
    );
    const early = outcome(out());
    assert.equal(early, undefined, `W's acquire() settled while W2 holds the lock: ${early?.line}`);
    assert.equal(await t.taker.owned(), true, "W2 still holds the lock");

    await t.taker.release();
    await child.waitFor("owned ");
    const final = outcome(out())!;
    assert.equal(final.result, true, final.line);
    assert.equal(final.held, true, final.line);
    assert.match(out(), /^owned true$/m, "Redis holds W's token");
    assert.ok(final.fence > FENCE_BASE + 3, `W's fencing token ${final.fence} follows W2's`);
    assert.equal(final.fence, await fenceCounter(env), "W's fencing token is Redis's");
    assert.equal(await child.exited, 0);
  } finally {
    stop.abort();
    writeFileSync(go, "");
    if (child && child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill("SIGKILL");
    }
    await Promise.allSettled([child?.exited, taking]);
    rmSync(dir, { recursive: true, force: true });
    await env.close();
  }
}

test(
  `${KIND.name}: a published grant processed after the waiter's event loop was blocked past the hand-off, while another waiter holds the lock, is not a holding (the grant comes first)`,
  // W refreshes every 10 s: after the block only the grant is pending.
  () => blockedWaiter("published-grant-first", 30_000),
);

test(
  `${KIND.name}: a published grant processed after the waiter's event loop was blocked past the hand-off, while another waiter holds the lock, is not a holding (the overdue refresh comes first)`,
  () => blockedWaiter("published-refresh-first", WAITER_HANDOFF_MS),
);

test(
  `${KIND.name}: an in-process hand-off whose release reply is processed after the event loop was blocked past the hand-off is not a holding (the grant comes first)`,
  () => blockedWaiter("local-grant-first", WAITER_HANDOFF_MS),
);

test(
  `${KIND.name}: an in-process hand-off whose release reply is processed after the event loop was blocked past the hand-off is not a holding (the overdue refresh comes first)`,
  () => blockedWaiter("local-refresh-first", WAITER_HANDOFF_MS),
);

/**
 * A driver whose commands go through `commands` (a client behind the proxy)
 * and whose subscriber is `subscriber`'s (a direct client), counting what W
 * sends and receives.
 */
function splitDriver(commands: LockClient, subscriber: LockClient) {
  const slow = resolveDriver(commands);
  const direct = resolveDriver(subscriber);
  const probe = { inflight: 0, flushed: 0, grants: 0 };
  const count = (reply: Promise<unknown>) => {
    probe.inflight++;
    return reply.then((value) => {
      setTimeout(() => probe.flushed++, 0); // once the lock has processed the answer
      return value;
    }).finally(() => probe.inflight--);
  };
  const driver: RedisDriver = {
    evalsha: (sha, keys, args) => count(slow.evalsha(sha, keys, args)),
    eval: (source, keys, args) => count(slow.eval(source, keys, args)),
    isTransient: slow.isTransient?.bind(slow),
    createSubscriber: (events) =>
      direct.createSubscriber({
        ...events,
        message(channel, payload) {
          events.message(channel, payload);
          if (payload.startsWith("grant ")) probe.grants++;
        },
      }),
    sharded: direct.sharded,
  };
  return { driver, probe };
}

eachKind(
  "a grant delivered while the waiter's command connection is stalled is not a holding once a later answer says another waiter holds the lock",
  async (env, kind) => {
    await seedFence(env);
    const proxy = await startProxy(env.server.port);
    const proxied = await kind.connect(proxy.url);
    const stop = new AbortController();
    const locks: RedisLock[] = [];
    const pending: Promise<unknown>[] = [];
    let holder: Child | undefined;
    try {
      // H in another process: its hand-off to W is published, not delivered in memory.
      holder = startChild("fixtures/releaser.ts", [env.server.url, NAME, `${HOLDER_HANDOFF_MS}`]);
      await holder.waitFor("held");
      const { driver, probe } = splitDriver(proxied.client, await env.client());
      const waiter = new RedisLock(driver, NAME, {
        fencing: true,
        handoffTimeout: WAITER_HANDOFF_MS,
      });
      locks.push(waiter);
      let reported: string | undefined;
      const waiting = waiter.acquire({ blockingTimeout: 20_000, signal: stop.signal }).then(
        (r) =>
          reported = `resolved ${r} (held ${waiter.held}, fencing token ${waiter.fencingToken})`,
        (err) => reported = `rejected: ${err}`,
      );
      pending.push(waiting);
      const manager = SubscriberManager.for(driver);
      await until(
        () => manager.isLive(KEYS.grants) && manager.waiterCount === 1 && probe.inflight === 0,
        "W queued and asleep",
      );
      const [w, ...others] = await queue(env);
      assert.deepEqual(others, [], "only W is queued");
      const t = await queueTaker(env, stop.signal);
      locks.push(t.taker);
      pending.push(t.settled);
      assert.equal((await queue(env))[0], w, "W is first in the queue");

      proxy.stall();
      await until(() => probe.inflight === 1, "W's next refresh sent into the stalled connection");
      process.kill(holder.process.pid!, "SIGUSR2");
      await holder.waitFor("released");
      await until(() => probe.grants === 1, "the grant delivered to W's subscriber");
      assert.equal(await t.taking, true, "W2 took the lock");
      assert.equal(
        t.taker.fencingToken,
        FENCE_BASE + 3,
        "the lock was handed to W (fence 2) before W2 took it",
      );
      assert.equal(reported, undefined); // W still awaits its stalled attempt

      const flushed = probe.flushed;
      proxy.resume(); // the stalled attempt runs now: W2 holds, W is queued again
      await until(
        () => reported !== undefined || probe.flushed > flushed,
        "W reported, or processed the answer to its stalled attempt",
      );
      assert.equal(reported, undefined, `W's acquire() ${reported} while W2 holds the lock`);
      assert.equal(await t.taker.owned(), true, "W2 still holds the lock");

      await t.taker.release();
      await within(waiting, 10_000, "W's acquire() after W2 released");
      assert.match(reported!, /^resolved true \(held true/);
      assert.equal(await waiter.owned(), true, "Redis holds W's token");
      assert.ok(
        waiter.fencingToken! > FENCE_BASE + 3,
        `W's fencing token ${waiter.fencingToken} follows W2's`,
      );
      assert.equal(waiter.fencingToken, await fenceCounter(env), "W's fencing token is Redis's");
      await waiter.release();
    } finally {
      stop.abort();
      proxy.resume();
      await Promise.allSettled(pending);
      await Promise.allSettled(locks.map((lock) => lock[Symbol.asyncDispose]()));
      if (holder && holder.process.exitCode === null && holder.process.signalCode === null) {
        holder.process.kill("SIGKILL");
      }
      await holder?.exited;
      await proxied.close();
      await proxy.close();
    }
  },
);
