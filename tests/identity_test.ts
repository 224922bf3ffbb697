/**
 * Holder identity: every holder and fair waiter carries who it is in its
 * token, which Redis holds anyway (the key, the holders' sets, the queue),
 * so recording it costs no Redis command; a holder's first renewal records
 * when its hold began, and that record goes with the lease.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { RedisLock, RedisReadWriteLock, RedisSemaphore } from "../mod.ts";
import { readToken } from "../lib/redis/_token.ts";
import { delay, eachClient, type TestEnv, until } from "./harness/env.ts";
import { startRedis } from "./harness/redis.ts";
import { startChild } from "./harness/process.ts";

type Server = TestEnv["server"];

async function keys(server: Server, pattern = "*"): Promise<string[]> {
  return (await server.command("KEYS", pattern) as string[]).sort();
}

async function redisMs(server: Server): Promise<number> {
  const [s, us] = await server.command("TIME") as string[];
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

function assertMine(
  identity: { pid?: number; runtime?: string; label?: string } | undefined,
  label?: string,
): void {
  assert.ok(identity, "an identity");
  assert.equal(identity.pid, process.pid);
  assert.match(identity.runtime ?? "", new RegExp(`^${RUNTIME} \\d`));
  assert.equal(identity.label, label);
}

eachClient(
  "a holder's identity rides in its token: the lock key holds it, no other key is written",
  async (env) => {
    const label = "nightly #42, 50% done ~ (ok)"; // spaces, '#', ',', '%', '~'
    const lock = new RedisLock(await env.client(), "job", { label });
    await lock.lock();
    assert.deepEqual(await keys(env.server), ["lock:{job}"]);
    const token = String(await env.server.command("GET", "lock:{job}"));
    assert.doesNotMatch(token, /[ ]/, "a hand-off message splits on spaces");
    assertMine(readToken(token).identity, label);
    const [holder] = (await RedisLock.inspect(await env.client(), "job")).holders;
    assertMine(holder.identity, label);
    assert.ok(holder.age! >= 0 && holder.age! < 2_000, `age ${holder.age}`);
    await lock.release();
    assert.deepEqual(await keys(env.server), []);
  },
);

// The harness's own commands (its polls open a connection each) and connection chores.
const HARNESS = /^(info|config.*|zcard|quit|hello|client.*|select|auth|ping)$/;

/** Every command Redis counted (Lua's inner calls included) but the harness's own. */
async function commandCounts(server: Server): Promise<Record<string, number>> {
  const stats = String(await server.command("INFO", "commandstats"));
  const counts: Record<string, number> = {};
  for (const [, name, calls] of stats.matchAll(/cmdstat_(\w+(?:\|\w+)?):calls=(\d+)/g)) {
    if (!HARNESS.test(name)) counts[name] = Number(calls);
  }
  return counts;
}

eachClient(
  "recording identity costs no Redis command: acquire, hand-off and release count the same with identity on and off",
  async (env) => {
    const clients = [await env.client(), await env.client()];
    async function cycle(identity: boolean): Promise<void> {
      const options = { identity, handoffTimeout: 60_000 };
      const [a, b] = clients.map((c) => new RedisLock(c, "job", options));
      await a.lock();
      await a.release(); // uncontended
      const sem = new RedisSemaphore(clients[0], "s", { limit: 1, identity });
      await sem.lock();
      await sem.release();
      const reader = new RedisReadWriteLock(clients[0], "rw", { identity }).readLock();
      await reader.lock();
      await reader.release();
      await a.lock(); // then a hand-off to a queued waiter
      const waiting = b.lock();
      await until(
        async () => Number(await env.server.command("ZCARD", "lock:{job}:queue")) === 2,
        "queued",
      );
      await a.release();
      await waiting;
      await b.release();
    }
    await cycle(true); // loads the scripts
    const runs: Record<string, number>[] = [];
    for (const identity of [false, true]) {
      await env.server.command("CONFIG", "RESETSTAT");
      await cycle(identity);
      runs.push(await commandCounts(env.server));
    }
    assert.deepEqual(runs[1], runs[0]);
    assert.ok((runs[0].evalsha ?? 0) >= 10, JSON.stringify(runs[0]));
  },
);

eachClient("a renewal records when the hold began; release() deletes the record", async (env) => {
  const lock = new RedisLock(await env.client(), "job", { ttl: 10_000, label: "x" });
  const before = await redisMs(env.server);
  await lock.lock();
  await delay(300);
  await lock.extend(20_000);
  const [record] = await keys(env.server, "lock:{job}:who:*");
  assert.ok(record, "recorded at the renewal");
  const start = Number(await env.server.command("GET", record));
  assert.ok(start >= before - 50 && start <= before + 250, `began ${start - before} ms after`);
  assert.ok(Number(await env.server.command("PTTL", record)) > 19_000, "lives with the lease");
  await lock.extend(20_000);
  assert.equal(Number(await env.server.command("GET", record)), start, "kept by later renewals");
  const [holder] = (await RedisLock.inspect(await env.client(), "job")).holders;
  assert.equal(holder.acquiredAt, start);
  await lock.release();
  assert.deepEqual(await keys(env.server), []);
});

eachClient(
  "a hand-off's holder is aged from the hand-off, not from its wait, once it renews",
  async (env) => {
    // The releaser's handoffTimeout sets the hand-off's lease (600 ms), which
    // the new holder renews within a third of it.
    const options = { handoffTimeout: 600 };
    const holder = new RedisLock(await env.client(), "job", { ...options, label: "first" });
    const waiter = new RedisLock(await env.client(), "job", { ...options, label: "second" });
    await holder.lock();
    const waiting = waiter.lock();
    const inspect = async () => await RedisLock.inspect(await env.client(), "job");
    await until(async () => (await inspect()).waiters.length === 1, "queued");
    assertMine((await inspect()).waiters[0].identity, "second");
    await delay(1_500);
    const releasedAt = await redisMs(env.server);
    await holder.release();
    await waiting;
    await until(
      async () => (await keys(env.server, "lock:{job}:who:*")).length === 1,
      "renewed",
      2_000,
    );
    const [held] = (await inspect()).holders;
    assertMine(held.identity, "second");
    assert.ok(
      held.acquiredAt! >= releasedAt - 20,
      `began ${releasedAt - held.acquiredAt!} ms before the release, after a 1 500 ms wait`,
    );
    await waiter.release();
    assert.deepEqual(await keys(env.server), []);
  },
);

eachClient("identity: false records nothing, holding, renewing or waiting", async (env) => {
  const options = { identity: false, handoffTimeout: 2_000 };
  const holder = new RedisLock(await env.client(), "job", options);
  const waiter = new RedisLock(await env.client(), "job", options);
  await holder.lock();
  await holder.extend();
  const waiting = waiter.lock();
  await until(
    async () => Number(await env.server.command("ZCARD", "lock:{job}:queue")) > 0,
    "queued",
  );
  assert.deepEqual(await keys(env.server), ["lock:{job}", "lock:{job}:queue"]);
  const state = await RedisLock.inspect(await env.client(), "job");
  assert.deepEqual([state.holders[0].identity, state.holders[0].age], [undefined, undefined]);
  assert.equal(state.waiters[0].identity, undefined);
  assert.doesNotMatch(String(await env.server.command("GET", "lock:{job}")), /~/);
  await holder.release();
  await waiting;
  await waiter.release();
  assert.deepEqual(await keys(env.server), []);
});

eachClient(
  "semaphore holders and waiters carry who they are; a renewal's record goes at release",
  async (env) => {
    const make = async (label: string) =>
      new RedisSemaphore(await env.client(), "s", { limit: 1, label, handoffTimeout: 2_000 });
    const [first, second] = [await make("a"), await make("b")];
    await first.lock();
    const waiting = second.lock();
    await until(
      async () => (await RedisSemaphore.inspect(await env.client(), "s")).waiters.length === 1,
      "queued",
    );
    await first.extend(40_000);
    assert.equal((await keys(env.server, "sem:{s}:who:*")).length, 1);
    const state = await RedisSemaphore.inspect(await env.client(), "s");
    assertMine(state.holders[0].identity, "a");
    assertMine(state.waiters[0].identity, "b");
    await first.release();
    await waiting;
    assertMine((await RedisSemaphore.inspect(await env.client(), "s")).holders[0].identity, "b");
    await second.release();
    assert.deepEqual(await keys(env.server), []);
  },
);

eachClient("read-write lock readers and writers carry who they are", async (env) => {
  const rw = new RedisReadWriteLock(await env.client(), "rw", {
    label: "x",
    handoffTimeout: 2_000,
  });
  const [r1, r2, w] = [rw.readLock(), rw.readLock(), rw.writeLock()];
  await r1.lock();
  await r2.lock();
  await r1.extend();
  const writing = w.lock();
  await until(
    async () => (await RedisReadWriteLock.inspect(await env.client(), "rw")).waiters.length === 1,
    "queued",
  );
  const state = await RedisReadWriteLock.inspect(await env.client(), "rw");
  for (const who of [...state.holders, ...state.waiters]) assertMine(who.identity, "x");
  assert.deepEqual(state.waiters.map((w) => w.mode), ["write"]);
  assert.equal((await keys(env.server, "rwlock:{rw}:who:*")).length, 1, "r1's renewal");
  await r1.release();
  await r2.release();
  await writing;
  assertMine((await RedisReadWriteLock.inspect(await env.client(), "rw")).holders[0].identity, "x");
  await w.release();
  assert.deepEqual(await keys(env.server), []);
});

test("label, identity and prefix are checked by every primitive", () => {
  const never = () => Promise.reject(new Error("no Redis here"));
  const client = { evalsha: never, eval: never, createSubscriber: never };
  const makers = [
    (o: object) => new RedisLock(client as never, "x", o),
    (o: object) => new RedisSemaphore(client as never, "x", { limit: 1, ...o }),
    (o: object) => new RedisReadWriteLock(client as never, "x", o),
  ];
  for (const make of makers) {
    assert.throws(() => make({ label: 7 }), { name: "TypeError", message: /options\.label.*7/ });
    assert.throws(() => make({ label: "" }), { name: "RangeError", message: /options\.label/ });
    assert.throws(() => make({ label: "x".repeat(201) }), { name: "RangeError", message: /200/ });
    assert.throws(() => make({ identity: "no" }), {
      name: "TypeError",
      message: /options\.identity/,
    });
    assert.throws(() => make({ prefix: 1 }), { name: "TypeError", message: /options\.prefix/ });
    assert.throws(() => make({ prefix: "a{b}:" }), {
      name: "RangeError",
      message: /options\.prefix.*a\{b\}/,
    });
    make({ label: "ok", identity: false, prefix: "" });
  }
});

test("a SIGKILLed holder's record is gone once its lease ends", async () => {
  const server = await startRedis();
  try {
    const child = startChild("fixtures/who_party.ts", [server.url, "lock", "job", "killed", "600"]);
    await child.waitFor("held");
    // It renews every 200 ms: its first renewal records when it began.
    await until(async () => (await keys(server, "lock:{job}:who:*")).length === 1, "recorded");
    child.process.kill("SIGKILL");
    await child.exited;
    await until(async () => (await keys(server)).length === 0, "gone");
  } finally {
    await server.stop();
  }
});

test("Deno without --allow-sys: no host recorded, no prompt, no error", {
  skip: !("Deno" in globalThis),
}, async () => {
  const server = await startRedis();
  try {
    const fixture = fileURLToPath(new URL("fixtures/who_party.ts", import.meta.url));
    // Only what node-redis itself needs (the network, and the environment).
    const flags = ["run", "--no-prompt", "--allow-net", "--allow-env"];
    const args = [...flags, fixture, server.url, "lock", "j", "l", "30000"];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => out += c);
    child.stderr.setEncoding("utf8").on("data", (c: string) => err += c);
    const exited = once(child, "exit");
    await until(() => out.includes("held") || child.exitCode !== null, "held");
    assert.equal(out, "held\n", err);
    const identity = readToken(String(await server.command("GET", "lock:{j}"))).identity;
    assert.equal(identity?.host, undefined);
    assert.equal(typeof identity?.pid, "number");
    assert.match(identity?.runtime ?? "", /^deno \d/);
    child.kill("SIGKILL");
    await exited;
    assert.equal(err, "");
  } finally {
    await server.stop();
  }
});
