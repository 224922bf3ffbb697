import assert from "node:assert/strict";
import { LockError, RedisLock, RedisSpinLock } from "../mod.ts";
import { eachClient } from "./_env.ts";

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
