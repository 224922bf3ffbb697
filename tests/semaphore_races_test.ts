/**
 * The semaphore under races a review tried: a storm of non-blocking
 * attempts, short timeouts and aborts against hand-offs; a timeout that
 * races its own hand-off; a holder paused past its lease; what a waiter
 * sends behind short-lived holders; and what a waiter that gives up leaves.
 */

import assert from "node:assert/strict";
import { RedisSemaphore } from "../mod.ts";
import {
  channels,
  delay,
  eachClient,
  liveMembers,
  queuedIn,
  queueLength,
  until,
} from "./harness/env.ts";
import { sleepingOn, tracked } from "./harness/fault_modes.ts";
import { semaphoreKeys } from "../lib/redis/_semaphore_keys.ts";

const KEYS = semaphoreKeys("sem");

eachClient(
  "semaphore: a storm of non-blocking tries, timeouts and aborts keeps to the limit",
  async (env) => {
    const LIMIT = 3;
    const clients = [await env.client(), await env.client(), await env.client()];
    let inside = 0;
    let most = 0;
    let redisMost = 0;
    let entries = 0;
    let stop = false;
    const sampler = (async () => {
      while (!stop) {
        redisMost = Math.max(redisMost, await liveMembers(env.server, KEYS.holders));
        await delay(3);
      }
    })();
    const end = performance.now() + 1_500;
    const contender = async (i: number) => {
      for (let n = 0; performance.now() < end; n++) {
        const sem = new RedisSemaphore(clients[i % 3], "sem", {
          limit: LIMIT,
          handoffTimeout: 600,
        });
        const abort = new AbortController();
        const how = (i + n) % 4;
        if (how === 2) setTimeout(() => abort.abort(new Error("abort")), n % 5);
        const got = await sem.acquire(
          how === 0
            ? { blocking: false }
            : { blockingTimeout: how === 1 ? 1 + (n % 7) : 5_000, signal: abort.signal },
        ).catch((err: Error) => {
          if (err.message !== "abort") throw err;
          return false;
        });
        if (!got) continue;
        entries++;
        most = Math.max(most, ++inside);
        await delay(n % 3);
        inside--;
        assert.equal(sem.signal.aborted, false, "no lease was lost");
        await sem.release();
      }
    };
    await Promise.all(Array.from({ length: 10 }, (_, i) => contender(i)));
    stop = true;
    await sampler;
    assert.equal(most, LIMIT, `at most ${most} inside: the limit is reached, never passed`);
    assert.ok(redisMost <= LIMIT, `${redisMost} live holders in Redis at once`);
    assert.ok(entries > 30, `${entries} acquisitions`);
    assert.equal(await queueLength(env.server, KEYS.queue), 0, "no queue entry left");
    await until(async () => await env.server.command("DBSIZE") === 0, "no key left", 3_000);
  },
);

eachClient(
  "semaphore: a timeout that races its hand-off passes the permit on at once",
  async (env) => {
    const [a, b] = [await env.client(), await env.client()];
    const make = (client: typeof a) => new RedisSemaphore(client, "sem", { limit: 1 });
    let slowest = 0;
    for (let round = 0; round < 12; round++) {
      const holder = make(a);
      await holder.lock();
      const first = make(b);
      const firstWait = first.acquire({ blockingTimeout: 60 });
      await queuedIn(env.server, KEYS.queue, 1);
      const second = make(a);
      const secondWait = second.acquire({ blockingTimeout: 10_000 });
      await queuedIn(env.server, KEYS.queue, 2);
      await delay(Math.max(0, 50 - round * 2)); // around the first's deadline
      const releasedAt = performance.now();
      await holder.release();
      if (await firstWait) await first.release();
      assert.equal(await secondWait, true);
      slowest = Math.max(slowest, performance.now() - releasedAt);
      await second.release();
    }
    // Not the 3 s a permit handed to a waiter that left would sit unused.
    assert.ok(slowest < 1_000, `the next waiter waited up to ${slowest.toFixed(0)} ms`);
    assert.equal(await queueLength(env.server, KEYS.queue), 0);
  },
);

eachClient(
  "semaphore: a holder paused past its lease cannot renew or release the next holder's permit",
  async (env) => {
    const client = await env.client();
    const paused = new RedisSemaphore(client, "sem", { limit: 1, ttl: 300 });
    await paused.lock();
    const other = new RedisSemaphore(client, "sem", { limit: 1 });
    const end = performance.now() + 700;
    while (performance.now() < end) { /* paused: no timer runs, no renewal goes out */ }
    assert.equal(await other.acquire({ blocking: false }), true, "the lapsed permit came back");
    await until(() => paused.signal.aborted, "the paused holder learns it lost the permit");
    assert.equal(paused.held, false);
    await assert.rejects(paused.release(), { name: "LockNotOwnedError" });
    assert.equal(await other.owned(), true);
    assert.equal(await liveMembers(env.server, KEYS.holders), 1);
    await other.release();
    assert.equal(await env.server.command("DBSIZE"), 0);
  },
);

eachClient(
  "semaphore: waiters that time out or are aborted leave no subscription and no key",
  async (env) => {
    const holder = new RedisSemaphore(await env.client(), "sem", { limit: 1 });
    await holder.lock();
    const client = await env.client();
    const timedOut = new RedisSemaphore(client, "sem", { limit: 1 });
    assert.equal(await timedOut.acquire({ blockingTimeout: 150 }), false);
    const stop = new AbortController();
    const aborted = new RedisSemaphore(client, "sem", { limit: 1 });
    const waiting = aborted.acquire({ signal: stop.signal });
    await queuedIn(env.server, KEYS.queue, 1);
    stop.abort(new Error("stop"));
    await assert.rejects(waiting, /stop/);
    await until(async () => (await channels(env.server)).length === 0, "no subscription", 1_000);
    assert.deepEqual(await env.server.command("KEYS", "*"), [KEYS.holders]);
    await holder.release();
    assert.equal(await env.server.command("DBSIZE"), 0);
  },
);

eachClient(
  "semaphore: behind short-ttl holders a waiter also re-checks at each lease end it saw",
  async (env) => {
    // The holder renews every 100 ms, so each answer shows a lease ending
    // 200-300 ms later; the waiter's own refresh is every 1 000 ms.
    const holder = new RedisSemaphore(await env.client(), "sem", { limit: 1, ttl: 300 });
    await holder.lock();
    const driver = tracked(await env.client());
    const waiter = new RedisSemaphore(driver, "sem", { limit: 1 });
    const waiting = waiter.acquire({ blockingTimeout: 10_000 });
    await sleepingOn([driver], 1, KEYS.grants);
    const sent = driver.sent;
    await delay(1_000);
    const requests = driver.sent - sent;
    // More than the refreshes alone (1), one per wake-up: no busy loop.
    assert.ok(requests >= 3 && requests <= 12, `${requests} requests in 1 s`);
    await holder.release();
    assert.equal(await waiting, true);
    await waiter.release();
  },
);
