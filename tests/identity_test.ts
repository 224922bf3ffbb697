/**
 * Holder identity: every holder (and fair waiter) records who it is next to
 * its lease, in the primitive's own keys, and the record goes with the lease.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { RedisLock, RedisReadWriteLock, RedisSemaphore } from "../mod.ts";
import { eachClient, type TestEnv, until } from "./harness/env.ts";
import { startRedis } from "./harness/redis.ts";
import { startChild } from "./harness/process.ts";

interface Record {
  readonly key: string;
  readonly at: number;
  readonly identity: { host?: string; pid?: number; runtime?: string; label?: string };
  readonly pttl: number;
}

/** The identity records whose key matches `pattern`. */
async function records(env: { server: TestEnv["server"] }, pattern: string): Promise<Record[]> {
  const keys = await env.server.command("KEYS", pattern) as string[];
  const out: Record[] = [];
  for (const key of keys) {
    const value = String(await env.server.command("GET", key));
    const space = value.indexOf(" ");
    const pttl = Number(await env.server.command("PTTL", key));
    out.push({
      key,
      at: Number(value.slice(0, space)),
      identity: JSON.parse(value.slice(space + 1)),
      pttl,
    });
  }
  return out;
}

async function redisMs(env: TestEnv): Promise<number> {
  const [s, us] = await env.server.command("TIME") as string[];
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

function assertMine(record: Record, label?: string): void {
  assert.equal(record.identity.pid, process.pid);
  assert.match(record.identity.runtime ?? "", new RegExp(`^${RUNTIME} \\d`));
  assert.equal(record.identity.label, label);
}

eachClient(
  "a holder records who it is and when; extend() renews it, release() deletes it",
  async (env) => {
    const lock = new RedisLock(await env.client(), "job", { ttl: 10_000, label: "nightly #42" });
    const before = await redisMs(env);
    await lock.lock();
    const [record] = await records(env, "lock:{job}:who:*");
    assertMine(record, "nightly #42");
    assert.ok(record.at >= before && record.at <= await redisMs(env), "acquired at, Redis ms");
    assert.ok(
      record.pttl > 9_000 && record.pttl <= 10_000,
      `expires with the lease: ${record.pttl}`,
    );
    await lock.extend(20_000);
    const [renewed] = await records(env, "lock:{job}:who:*");
    assert.ok(renewed.pttl > 19_000, `renewed with the lease: ${renewed.pttl}`);
    assert.equal(renewed.at, record.at);
    await lock.release();
    assert.deepEqual(await env.server.command("KEYS", "*"), []);
  },
);

eachClient("a holder's record expires with its lease", async (env) => {
  for (const fair of [true, false]) {
    const lock = new RedisLock(await env.client(), "job", { ttl: 300, autoExtend: false, fair });
    await lock.lock();
    assert.equal((await records(env, "lock:{job}:who:*")).length, 1);
    await until(
      async () => (await env.server.command("KEYS", "*") as string[]).length === 0,
      "all gone",
    );
  }
});

eachClient(
  "a fair waiter is recorded while queued; its record starts at the hand-off",
  async (env) => {
    const holder = new RedisLock(await env.client(), "job", { label: "first" });
    const waiter = new RedisLock(await env.client(), "job", {
      label: "second",
      handoffTimeout: 2_000,
    });
    await holder.lock();
    const waiting = waiter.lock();
    await until(
      async () => (await records(env, "lock:{job}:who:*")).length === 2,
      "waiter recorded",
    );
    const queued = (await records(env, "lock:{job}:who:*")).find((r) =>
      r.identity.label === "second"
    )!;
    assert.equal(queued.at, 0, "a waiter has not acquired yet");
    assert.ok(queued.pttl <= 2_500, `it lives as long as its place in the queue: ${queued.pttl}`);
    const releasedAt = await redisMs(env);
    await holder.release();
    await waiting;
    const [held] = await records(env, "lock:{job}:who:*");
    assertMine(held, "second");
    assert.ok(held.at >= releasedAt, "acquired at the hand-off");
    await waiter.release();
    assert.deepEqual(await env.server.command("KEYS", "*"), []);
  },
);

eachClient("identity: false records nothing, holding or waiting", async (env) => {
  const options = { identity: false, handoffTimeout: 2_000 };
  const holder = new RedisLock(await env.client(), "job", options);
  const waiter = new RedisLock(await env.client(), "job", options);
  await holder.lock();
  const waiting = waiter.lock();
  await until(
    async () => Number(await env.server.command("ZCARD", "lock:{job}:queue")) > 0,
    "queued",
  );
  assert.deepEqual((await env.server.command("KEYS", "*") as string[]).sort(), [
    "lock:{job}",
    "lock:{job}:queue",
  ]);
  await holder.release();
  await waiting;
  assert.deepEqual(await env.server.command("KEYS", "*"), ["lock:{job}"]);
  await waiter.release();
});

eachClient("semaphore holders and waiters record who they are", async (env) => {
  const make = async (label: string) =>
    new RedisSemaphore(await env.client(), "s", { limit: 1, label, handoffTimeout: 2_000 });
  const [first, second] = [await make("a"), await make("b")];
  await first.lock();
  const waiting = second.lock();
  await until(async () => (await records(env, "sem:{s}:who:*")).length === 2, "waiter recorded");
  await first.extend(40_000);
  const held = (await records(env, "sem:{s}:who:*")).find((r) => r.identity.label === "a")!;
  assert.ok(held.at > 0 && held.pttl > 39_000, `renewed: ${held.pttl}`);
  await first.release();
  await waiting;
  const [now] = await records(env, "sem:{s}:who:*");
  assertMine(now, "b");
  assert.ok(now.at > 0, "acquired at the hand-off");
  await second.release();
  assert.deepEqual(await env.server.command("KEYS", "sem:*"), []);
});

eachClient("read-write lock readers and writers record who they are", async (env) => {
  const rw = new RedisReadWriteLock(await env.client(), "rw", {
    label: "x",
    handoffTimeout: 2_000,
  });
  const [r1, r2, w] = [rw.readLock(), rw.readLock(), rw.writeLock()];
  await r1.lock();
  await r2.lock();
  const writing = w.lock();
  await until(
    async () => (await records(env, "rwlock:{rw}:who:*")).length === 3,
    "writer recorded",
  );
  const all = await records(env, "rwlock:{rw}:who:*");
  assert.deepEqual(all.map((r) => r.at > 0).sort(), [false, true, true]);
  await r1.release();
  await r2.release();
  await writing;
  const [writer] = await records(env, "rwlock:{rw}:who:*");
  assertMine(writer, "x");
  assert.ok(writer.at > 0);
  await w.release();
  assert.deepEqual(await env.server.command("KEYS", "rwlock:*"), []);
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
    const keys = await server.command("KEYS", "lock:{job}:who:*") as string[];
    assert.equal(keys.length, 1);
    child.process.kill("SIGKILL");
    await child.exited;
    await until(async () => (await server.command("KEYS", "*") as string[]).length === 0, "gone");
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
    const child = spawn(process.execPath, [
      ...flags,
      fixture,
      server.url,
      "lock",
      "j",
      "l",
      "30000",
    ], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => out += c);
    child.stderr.setEncoding("utf8").on("data", (c: string) => err += c);
    const exited = once(child, "exit");
    await until(() => out.includes("held") || child.exitCode !== null, "held");
    assert.equal(out, "held\n", err);
    const env = { server };
    const [record] = await records(env, "lock:{j}:who:*");
    assert.equal(record.identity.host, undefined);
    assert.equal(typeof record.identity.pid, "number");
    assert.match(record.identity.runtime ?? "", /^deno \d/);
    child.kill("SIGKILL");
    await exited;
    assert.equal(err, "");
  } finally {
    await server.stop();
  }
});
