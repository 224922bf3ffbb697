import { test } from "node:test";
import assert from "node:assert/strict";
import { LockError, LockUnavailableError, RedisLock, RedisSpinLock } from "../mod.ts";
import { commandCalls, eachClient, until } from "./harness/env.ts";
import { eachKind, MODES } from "./harness/fault_modes.ts";

type Case = [what: string, make: (client: unknown) => unknown, error: typeof Error, match: RegExp];

const construct: Case[] = [
  ["no client", () => new RedisLock(undefined as never, "x"), TypeError, /client .* got undefined/],
  ["a plain object", () => new RedisLock({} as never, "x"), TypeError, /client must be/],
  ["a number name", (c) => new RedisLock(c as never, 5 as never), TypeError, /name .* got 5/],
  ["an empty name", (c) => new RedisLock(c as never, ""), RangeError, /name must not be empty/],
  ["ttl 0", (c) => new RedisLock(c as never, "x", { ttl: 0 }), RangeError, /options.ttl .* got 0/],
  ["ttl -5", (c) => new RedisLock(c as never, "x", { ttl: -5 }), RangeError, /options.ttl/],
  ["ttl NaN", (c) => new RedisLock(c as never, "x", { ttl: NaN }), RangeError, /options.ttl/],
  ["ttl Infinity", (c) => new RedisLock(c as never, "x", { ttl: Infinity }), RangeError, /ttl/],
  ["ttl 1.5", (c) => new RedisLock(c as never, "x", { ttl: 1.5 }), RangeError, /whole number/],
  ["ttl huge", (c) => new RedisLock(c as never, "x", { ttl: 2 ** 40 }), RangeError, /ttl/],
  ["ttl string", (c) => new RedisLock(c as never, "x", { ttl: "5" as never }), TypeError, /"5"/],
  ["timeout -1", (c) => new RedisLock(c as never, "x", { blockingTimeout: -1 }), RangeError, /-1/],
  [
    "timeout NaN",
    (c) => new RedisLock(c as never, "x", { blockingTimeout: NaN }),
    RangeError,
    /NaN/,
  ],
  ["unknown key", (c) => new RedisLock(c as never, "x", { tll: 5 } as never), TypeError, /"tll"/],
  ["options null", (c) => new RedisLock(c as never, "x", null as never), TypeError, /options/],
  [
    "autoExtend 1",
    (c) => new RedisLock(c as never, "x", { autoExtend: 1 as never }),
    TypeError,
    /autoExtend/,
  ],
];

const acquire: Case[] = [
  [
    "timeout -1",
    (c) => new RedisLock(c as never, "x").acquire({ blockingTimeout: -1 }),
    RangeError,
    /-1/,
  ],
  [
    "timeout NaN",
    (c) => new RedisLock(c as never, "x").acquire({ blockingTimeout: NaN }),
    RangeError,
    /NaN/,
  ],
  [
    "blocking 'no'",
    (c) => new RedisLock(c as never, "x").acquire({ blocking: "no" as never }),
    TypeError,
    /blocking/,
  ],
  [
    "signal {}",
    (c) => new RedisLock(c as never, "x").acquire({ signal: {} as never }),
    TypeError,
    /signal/,
  ],
  [
    "unknown key",
    (c) => new RedisLock(c as never, "x").acquire({ sleepTime: 5 } as never),
    TypeError,
    /sleepTime/,
  ],
  [
    "sleepTime -1",
    (c) => new RedisSpinLock(c as never, "x").acquire({ sleepTime: -1 }),
    RangeError,
    /sleepTime/,
  ],
  [
    "sleepTime NaN",
    (c) => new RedisSpinLock(c as never, "x").acquire({ sleepTime: NaN }),
    RangeError,
    /sleepTime/,
  ],
  [
    "sleepTime Inf",
    (c) => new RedisSpinLock(c as never, "x").acquire({ sleepTime: Infinity }),
    RangeError,
    /sleepTime/,
  ],
  ["extend(0)", (c) => new RedisLock(c as never, "x").extend(0), RangeError, /ttl/],
  [
    "run(5)",
    (c) => new RedisLock(c as never, "x").run(5 as never),
    TypeError,
    /fn must be a function/,
  ],
];

eachClient(
  "bad arguments throw TypeError/RangeError naming them, and write nothing",
  async (env) => {
    const client = await env.client();
    for (const [what, make, error, match] of [...construct, ...acquire]) {
      await assert.rejects(
        async () => await make(client),
        (err: unknown) => err instanceof error && match.test((err as Error).message),
        what,
      );
    }
    assert.equal(await env.server.command("DBSIZE"), 0);
    assert.deepEqual(await env.server.command("PUBSUB", "CHANNELS"), []);
  },
);

eachClient(
  "an instance that holds or awaits the lock rejects a second acquire() with LockError",
  async (env) => {
    const client = await env.client();
    const lock = new RedisLock(client, "x");
    await lock.lock();
    await assert.rejects(lock.acquire(), LockError);
    const waiter = new RedisLock(client, "x");
    const waiting = waiter.acquire({ blockingTimeout: 200 });
    await assert.rejects(waiter.acquire(), LockError);
    assert.equal(await waiting, false);
    await lock.release();
  },
);

const SUPPORTED = /node-redis.*ioredis.*Bun RedisClient.*RedisDriver.*, got /s;

test("a client of the wrong kind is a TypeError that lists the supported clients", () => {
  const wrong: [string, unknown][] = [
    ["a Map", new Map()],
    ["a URL", "redis://127.0.0.1:6379"],
    ["a port", 6379],
    ["a function", () => {}],
    ["a client's shape without its methods", { isOpen: true, status: "ready" }],
  ];
  for (const [what, client] of wrong) {
    for (const Lock of [RedisLock, RedisSpinLock]) {
      assert.throws(() => new Lock(client as never, "x"), (err: unknown) => {
        return err instanceof TypeError && SUPPORTED.test(err.message);
      }, `${Lock.name} with ${what}`);
    }
  }
  assert.throws(() => new RedisLock(new Map() as never, "x"), /got a Map/);
  assert.throws(() => new RedisLock("redis://h" as never, "x"), /got "redis:\/\/h"/);
});

eachClient(
  "an unknown option key is a TypeError on every call that takes options, and writes nothing",
  async (env) => {
    const client = await env.client();
    const extra = { extra: 1 } as never;
    const calls: [string, () => unknown][] = [
      ["new RedisLock", () => new RedisLock(client, "x", extra)],
      ["new RedisSpinLock", () => new RedisSpinLock(client, "x", extra)],
      ["RedisLock acquire", () => new RedisLock(client, "x").acquire(extra)],
      ["RedisLock lock", () => new RedisLock(client, "x").lock(extra)],
      ["RedisLock run", () => new RedisLock(client, "x").run(() => {}, extra)],
      ["fair acquire", () => new RedisLock(client, "x", { fair: true }).acquire(extra)],
      ["RedisSpinLock acquire", () => new RedisSpinLock(client, "x").acquire(extra)],
      ["RedisSpinLock lock", () => new RedisSpinLock(client, "x").lock(extra)],
      ["RedisSpinLock run", () => new RedisSpinLock(client, "x").run(() => {}, extra)],
    ];
    for (const [what, call] of calls) {
      await assert.rejects(
        async () => await call(),
        (err: unknown) => err instanceof TypeError && /"extra"/.test(err.message),
        what,
      );
    }
    assert.equal(await env.server.command("DBSIZE"), 0);
    assert.deepEqual(await env.server.command("PUBSUB", "CHANNELS"), []);
  },
);

eachClient(
  "extend() with NaN, Infinity or 2³¹ ms is a RangeError and keeps the lease",
  async (env) => {
    const lock = new RedisLock(await env.client(), "x", { ttl: 60_000 });
    for (const ttl of [NaN, Infinity, -Infinity, 2 ** 31]) {
      await assert.rejects(lock.extend(ttl), RangeError, `extend(${ttl}) before acquiring`);
    }
    await lock.lock();
    for (const ttl of [NaN, Infinity, 2 ** 31]) {
      await assert.rejects(lock.extend(ttl), (err: unknown) => {
        return err instanceof RangeError && err.message.includes(String(ttl));
      }, `extend(${ttl})`);
    }
    assert.equal(lock.held, true);
    assert.ok(await lock.remaining() > 59_000, "the lease was not touched");
    await lock.release();
  },
);

eachClient(
  "ttl 2³¹ is a RangeError, while 2³¹−1 ms and a blockingTimeout of 1e300 work in every mode",
  async (env) => {
    const client = await env.client();
    for (const Lock of [RedisLock, RedisSpinLock]) {
      assert.throws(() => new Lock(client, "x", { ttl: 2 ** 31 }), RangeError);
      assert.throws(() => new Lock(client, "x", { handoffTimeout: 2 ** 31 }), RangeError);
    }
    assert.equal(await env.server.command("DBSIZE"), 0);
    const longest = new RedisLock(client, "x", { ttl: 2 ** 31 - 1 });
    await longest.lock();
    assert.ok(Number(await env.server.command("PTTL", "lock:{x}")) > 2 ** 31 - 10_000);
    await longest.release();
    for (const mode of MODES) {
      const holder = new RedisLock(await env.client(), "x");
      await holder.lock();
      const waiter = mode.make(client, "x", { blockingTimeout: 1e300 });
      const before = await commandCalls(env.server, "evalsha");
      const acquired = waiter.acquire(mode.wait);
      const waiting = async () =>
        mode.pubsub
          ? (await env.server.command("PUBSUB", "CHANNELS") as string[]).length === 1
          : await commandCalls(env.server, "evalsha") > before + 1;
      await until(waiting, "waiting");
      await holder.release();
      assert.equal(await acquired, true, mode.name);
      await waiter.release();
    }
    assert.equal(await env.server.command("DBSIZE"), 0);
  },
);

eachKind(
  "a closed client: the lock is built, acquire() rejects with the client's closed error (as the cause on Bun), nothing is written",
  async ({ server }, kind) => {
    const { client, close } = await kind.connect(server.url);
    await close();
    const locks = [
      new RedisLock(client, "x"),
      new RedisLock(client, "x", { fair: true }),
      new RedisSpinLock(client, "x"),
    ];
    for (const lock of locks) {
      // node-redis: "The client is closed"; ioredis: "Connection is closed."
      // (at once). Bun: "Connection has failed" with code
      // ERR_REDIS_CONNECTION_CLOSED; Bun does not tell a closed client from a
      // reconnecting one, so its wait retries to the deadline and then
      // rejects with LockUnavailableError whose cause is that error.
      await assert.rejects(lock.acquire({ blockingTimeout: 1_000 }), (err: unknown) => {
        const cause = err instanceof LockUnavailableError ? err.cause : err;
        const { message, code } = cause as { message?: string; code?: string };
        return cause instanceof Error && !(cause instanceof LockError) &&
          /closed/i.test(`${message} ${code}`);
      });
      assert.equal(lock.held, false);
    }
    assert.equal(await server.command("DBSIZE"), 0);
    assert.deepEqual(await server.command("PUBSUB", "CHANNELS"), []);
  },
);
