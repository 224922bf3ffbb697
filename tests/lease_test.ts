import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { LockLostError, LockNotOwnedError, RedisLock, RedisSpinLock } from "../mod.ts";
import {
  commandCalls,
  delay,
  eachClient,
  freeze,
  subscribers,
  until,
  within,
} from "./harness/env.ts";
import { asleep, type Mode, modeNamed, tracked } from "./harness/fault_modes.ts";
import { startProxy } from "./harness/proxy.ts";
import { startChild } from "./harness/process.ts";
import { startRedis } from "./harness/redis.ts";

function lost(signal: AbortSignal): Promise<number> {
  return new Promise((resolve) => {
    signal.addEventListener("abort", () => resolve(performance.now()), { once: true });
  });
}

/** The fault-harness mode of a lock class at its defaults (RedisLock is fair). */
function modeOf(Lock: typeof RedisLock | typeof RedisSpinLock): Mode {
  return modeNamed(Lock === RedisSpinLock ? "RedisSpinLock" : "RedisLock fair");
}

for (const Lock of [RedisLock, RedisSpinLock]) {
  eachClient(
    `${Lock.name}: a holder with ttl 300 keeps the lock through 2 s of work`,
    async (env) => {
      const holder = new Lock(await env.client(), "job", { ttl: 300 });
      await holder.lock();
      const driver = tracked(await env.client());
      const other = new Lock(driver, "job");
      for (let t = 0; t < 2_000; t += 250) {
        await delay(250);
        assert.equal(await other.acquire({ blocking: false }), false, `taken after ${t + 250} ms`);
      }
      assert.equal(holder.signal.aborted, false);
      const spinning = Lock === RedisSpinLock ? { sleepTime: 5 } : {};
      const sent = driver.sent;
      const waiting = other.acquire({ blockingTimeout: 5_000, ...spinning });
      await until(() => driver.sent > sent, "the waiter's first attempt");
      await asleep([driver], 1, modeOf(Lock));
      const releasedAt = performance.now();
      await holder.release();
      assert.equal(await waiting, true);
      assert.ok(performance.now() - releasedAt < 200);
      await other.release();
    },
  );
}

eachClient(
  "deleting the key behind the holder aborts its signal within one renewal period",
  async (env) => {
    const holder = new RedisLock(await env.client(), "job", { ttl: 600 });
    await holder.lock();
    const abortedAt = lost(holder.signal);
    const deletedAt = performance.now();
    await env.server.command("DEL", "lock:{job}");
    const after = (await abortedAt) - deletedAt;
    // One renewal period (ttl / 3), plus a loaded machine's timer lag: still
    // well inside the 600 ms lease.
    assert.ok(after <= 200 + 150, `aborted ${after.toFixed(0)} ms after the delete`);
    assert.ok(holder.signal.reason instanceof LockLostError);
    assert.equal(holder.held, false);
    await assert.rejects(holder.release(), LockNotOwnedError);
  },
);

eachClient(
  "overwriting the key behind the holder aborts its signal, and release() keeps the new key",
  async (env) => {
    const holder = new RedisLock(await env.client(), "job", { ttl: 600 });
    await holder.lock();
    const abortedAt = lost(holder.signal);
    const overwrittenAt = performance.now();
    await env.server.command("SET", "lock:{job}", "intruder", "PX", "5000");
    // Found by the next renewal (every 200 ms), not by the local deadline at 600 ms.
    const after = (await within(abortedAt, 5_000, "the holder's signal")) - overwrittenAt;
    assert.ok(after <= 200 + 150, `aborted ${after.toFixed(0)} ms after the overwrite`);
    assert.ok(holder.signal.reason instanceof LockLostError);
    await assert.rejects(holder.release(), LockNotOwnedError);
    assert.equal(await env.server.command("GET", "lock:{job}"), "intruder");
  },
);

eachClient(
  "without autoExtend the signal aborts when the lease's local deadline passes",
  async (env) => {
    const holder = new RedisLock(await env.client(), "job", { ttl: 300, autoExtend: false });
    const started = performance.now();
    await holder.lock();
    const after = (await lost(holder.signal)) - started;
    assert.ok(after >= 250 && after < 450, `aborted after ${after.toFixed(0)} ms`);
  },
);

eachClient(
  "renewal stops at release: no script runs afterwards and no timer keeps running",
  async (env) => {
    const driver = tracked(await env.client());
    const holder = new RedisLock(driver, "job", { ttl: 150 });
    await holder.lock();
    await until(() => driver.sent >= 3 && driver.inflight === 0, "two renewals");
    await holder.release();
    const before = await commandCalls(env.server, "evalsha");
    await delay(400);
    assert.equal(await commandCalls(env.server, "evalsha"), before);
    assert.equal(holder.signal.aborted, false, "a normal release does not abort the signal");
  },
);

test("a holder cut off from Redis learns of the loss before anyone else can acquire", async () => {
  const server = await startRedis();
  const proxy = await startProxy(server.port);
  const cut = await createClient({ url: proxy.url }).on("error", () => {}).connect();
  const direct = await createClient({ url: server.url }).on("error", () => {}).connect();
  try {
    const holder = new RedisLock(cut as never, "job", { ttl: 500 });
    await holder.lock();
    const abortedAt = lost(holder.signal);
    proxy.stall(); // renewals never arrive
    const waiter = new RedisLock(direct as never, "job");
    assert.equal(await waiter.acquire({ blockingTimeout: 3_000 }), true);
    const acquiredAt = performance.now();
    assert.ok(await abortedAt <= acquiredAt, "the old holder was told before the new one got it");
    assert.ok(holder.signal.reason instanceof LockLostError);
    await waiter.release();
  } finally {
    await direct.close();
    cut.destroy();
    await proxy.close();
    await server.stop();
  }
});

test("a holder killed with SIGKILL blocks others only until its ttl runs out", async () => {
  const server = await startRedis();
  const client = await createClient({ url: server.url }).connect();
  try {
    const child = startChild("fixtures/holder.ts", [server.url, "job", "800"]);
    await child.waitFor("held");
    await delay(1_000); // renewed at least once
    child.process.kill("SIGKILL");
    const killedAt = performance.now();
    await child.exited;
    const waiter = new RedisLock(client as never, "job");
    assert.equal(await waiter.acquire({ blockingTimeout: 5_000 }), true);
    const waited = performance.now() - killedAt;
    assert.ok(waited < 800 + 300, `acquired ${waited.toFixed(0)} ms after the kill`);
    await waiter.release();
  } finally {
    await client.close();
    await server.stop();
  }
});

eachClient("run() returns the callback's value and releases, also when it throws", async (env) => {
  const client = await env.client();
  const lock = new RedisLock(client, "job");
  assert.equal(await lock.run((signal) => (signal.aborted ? 0 : 42)), 42);
  assert.equal(await lock.locked(), false);
  await assert.rejects(lock.run(() => Promise.reject(new Error("work failed"))), /work failed/);
  assert.equal(await lock.locked(), false);
  assert.deepEqual(await env.server.command("PUBSUB", "CHANNELS"), []);
});

eachClient(
  "run() rejects with LockLostError when the lease was lost while the callback ran",
  async (env) => {
    const lock = new RedisLock(await env.client(), "job", { ttl: 300 });
    let sawAbort = false;
    await assert.rejects(
      lock.run(async (signal) => {
        await env.server.command("DEL", "lock:{job}");
        await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        sawAbort = true;
        return "done anyway";
      }),
      LockLostError,
    );
    assert.ok(sawAbort);
    assert.equal(await subscribers(env.server, "lock:{job}:wake"), 0);
  },
);

eachClient("extend() sets the remaining lease and later renewals use it", async (env) => {
  const lock = new RedisLock(await env.client(), "job", { ttl: 1_000 });
  await assert.rejects(lock.extend(), LockNotOwnedError);
  await lock.lock();
  await lock.extend(20_000);
  const left = await lock.remaining();
  assert.ok(left > 19_000 && left <= 20_000, `${left}`);
  await delay(400); // past a renewal period of the old ttl
  assert.ok(await lock.remaining() > 19_000);
  await lock.release();
  assert.equal(await lock.remaining(), 0);
});

eachClient("fencing tokens grow and survive the lock key expiring", async (env) => {
  const client = await env.client();
  const lock = new RedisLock(client, "job", { fencing: true, ttl: 50, autoExtend: false });
  assert.equal(new RedisLock(client, "job").fencingToken, undefined);
  await lock.lock();
  const first = lock.fencingToken!;
  await delay(100); // expired, never released
  assert.equal(await env.server.command("EXISTS", "lock:{job}"), 0);
  await lock.lock();
  assert.ok(lock.fencingToken! > first);
});

test("fencing tokens strictly increase across 4 processes x 50 acquisitions", async () => {
  const server = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), "fencing-"));
  const file = join(dir, "log");
  try {
    const children = [1, 2, 3, 4].map(() =>
      startChild("fixtures/fencing_worker.ts", [server.url, file, "50"])
    );
    assert.deepEqual(await Promise.all(children.map((c) => c.exited)), [0, 0, 0, 0]);
    const lines = readFileSync(file, "utf8").trim().split("\n");
    assert.equal(lines.length, 200);
    const tokens = lines.map((line) => Number(line.split(" ")[0]));
    for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i] > tokens[i - 1], `line ${i}`);
    assert.equal(new Set(lines.map((l) => l.split(" ")[1])).size, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
});

eachClient(
  "run(): the callback's error wins over a failed release, which becomes its cause",
  async (env) => {
    const lock = new RedisLock(await env.client(), "job");
    const failure = new Error("work failed");
    await assert.rejects(
      lock.run(async () => {
        await env.server.command("ACL", "SETUSER", "default", "-evalsha", "-eval");
        throw failure;
      }),
      (err) => err === failure && /NOPERM/.test(String((err as Error).cause)),
    );
    await env.server.command("ACL", "SETUSER", "default", "+@all");
    await lock.release(); // still held after the failed release: released now
    assert.equal(await lock.locked(), false);
  },
);

eachClient(
  "a release that Redis refuses leaves the lease renewing: the lock is still held past its ttl",
  async (env) => {
    const lock = new RedisLock(await env.client(), "job", { ttl: 600 });
    await lock.lock();
    // Renewals are held back while the release is in flight; they resume when it fails.
    await env.server.command("ACL", "SETUSER", "default", "-evalsha", "-eval");
    await assert.rejects(lock.release(), /NOPERM/);
    await env.server.command("ACL", "SETUSER", "default", "+@all");
    const token = await env.server.command("GET", "lock:{job}");
    await delay(1_200); // two ttls: only renewals keep the key
    assert.equal(lock.held, true);
    assert.equal(await env.server.command("GET", "lock:{job}"), token);
    await lock.release();
    assert.equal(await lock.locked(), false);
  },
);

eachClient(
  "held is false, and the signal aborted, as soon as the lease's local deadline passes, before its timer runs",
  async (env) => {
    const lock = new RedisLock(await env.client(), "job", { ttl: 200, autoExtend: false });
    await lock.lock();
    const signal = lock.signal;
    freeze(250); // past the lease; the lease's timer has had no chance to run
    assert.equal(signal.aborted, false, "the timer did not run during the freeze");
    assert.equal(lock.held, false);
    assert.equal(signal.aborted, true);
    assert.ok(signal.reason instanceof LockLostError);
    await assert.rejects(lock.release(), LockNotOwnedError);
  },
);

eachClient(
  "run() rejects with LockLostError when the callback outlived the lease in one synchronous stretch",
  async (env) => {
    const lock = new RedisLock(await env.client(), "job", { ttl: 200, autoExtend: false });
    await assert.rejects(lock.run(() => freeze(250)), LockLostError);
    assert.equal(await lock.locked(), false);
  },
);
