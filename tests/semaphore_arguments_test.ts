import { test } from "node:test";
import assert from "node:assert/strict";
import { LockError, LockNotOwnedError, RedisSemaphore } from "../mod.ts";
import { eachClient } from "./harness/env.ts";

type Case = [what: string, options: unknown, error: typeof Error, match: RegExp];

const cases: Case[] = [
  ["no options", undefined, TypeError, /options must be an object with a limit, got undefined/],
  ["options null", null, TypeError, /options must be an object/],
  ["no limit", {}, TypeError, /options.limit .* it is missing/],
  ["limit string", { limit: "4" }, TypeError, /options.limit .* got "4"/],
  ["limit 0", { limit: 0 }, RangeError, /options.limit .* got 0/],
  ["limit -1", { limit: -1 }, RangeError, /options.limit .* got -1/],
  ["limit 1.5", { limit: 1.5 }, RangeError, /options.limit .* got 1.5/],
  ["limit NaN", { limit: NaN }, RangeError, /options.limit .* got NaN/],
  ["limit Infinity", { limit: Infinity }, RangeError, /options.limit .* got Infinity/],
  ["limit 2^31", { limit: 2 ** 31 }, RangeError, /options.limit .* 2147483647, got 2147483648/],
  ["fencing", { limit: 2, fencing: true }, TypeError, /unknown option "fencing"/],
  ["unknown", { limit: 2, tll: 5 }, TypeError, /unknown option "tll"/],
  ["ttl 0", { limit: 2, ttl: 0 }, RangeError, /options.ttl .* got 0/],
  ["fair 1", { limit: 2, fair: 1 }, TypeError, /options.fair/],
  ["handoffTimeout -1", { limit: 2, handoffTimeout: -1 }, RangeError, /handoffTimeout/],
];

/** A driver that must never be called: construction sends nothing. */
const idle = {
  evalsha: () => Promise.reject(new Error("sent")),
  eval: () => Promise.reject(new Error("sent")),
  createSubscriber: () => {
    throw new Error("subscribed");
  },
};

for (const [what, options, error, match] of cases) {
  test(`semaphore options: ${what} is a ${error.name}`, () => {
    assert.throws(() => new RedisSemaphore(idle as never, "x", options as never), (err) => {
      assert.ok(err instanceof error, `${err}`);
      assert.match((err as Error).message, match);
      return true;
    });
  });
}

test("semaphore options: the limit's bounds are accepted, the defaults are RedisLock's", () => {
  const one = new RedisSemaphore(idle as never, "x", { limit: 1 });
  const most = new RedisSemaphore(idle as never, "x", { limit: 2 ** 31 - 1 });
  assert.deepEqual([one.limit, most.limit], [1, 2 ** 31 - 1]);
  assert.deepEqual([one.ttl, one.fair, one.handoffTimeout], [30_000, true, 3_000]);
  assert.throws(() => new RedisSemaphore(idle as never, "", { limit: 1 }), RangeError);
});

eachClient("semaphore: the lock's bad-use rules hold for a permit", async (env) => {
  const sem = new RedisSemaphore(await env.client(), "x", { limit: 2 });
  await assert.rejects(sem.release(), LockNotOwnedError);
  await assert.rejects(sem.extend(), LockNotOwnedError);
  await assert.rejects(sem.acquire({ blockingTimeout: -1 }), RangeError);
  await assert.rejects(sem.run("no" as never), TypeError);
  await sem.lock();
  await assert.rejects(sem.acquire(), LockError, "one instance is one holder");
  await assert.rejects(sem.extend(0), RangeError);
  await sem[Symbol.asyncDispose]();
  assert.equal(sem.held, false);
  await sem[Symbol.asyncDispose](); // nothing held: nothing to do
  assert.equal(await env.server.command("DBSIZE"), 0);
});
