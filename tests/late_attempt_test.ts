/**
 * An attempt given up unanswered may still run in Redis after the wait's
 * clean-up (a cluster redirect or a reconnect can deliver it late, after the
 * release by token that was meant to undo it). When its answer finally
 * comes saying it took the lock, or queued the waiter, the library releases
 * again: nothing outlives the acquisition for a whole lease.
 */

import assert from "node:assert/strict";
import { LockUnavailableError, type RedisDriver, RedisLock } from "../mod.ts";
import { resolveDriver } from "../lib/clients/lock_client.ts";
import { eachClient, until } from "./harness/env.ts";

/**
 * A driver that holds back its first script call until `let()` is called
 * (which resolves once that call's answer has come); the rest go at once.
 */
function holdingFirst(
  client: unknown,
): { driver: RedisDriver; held(): boolean; let(): Promise<unknown> } {
  const real = resolveDriver(client);
  let gate: (() => void) | undefined;
  let answered: Promise<unknown> = Promise.resolve();
  let first = true;
  const late = <T>(send: () => Promise<T>): Promise<T> => {
    if (!first) return send();
    first = false;
    const sent = new Promise<void>((resolve) => gate = resolve).then(send);
    answered = sent.catch(() => {});
    return sent;
  };
  return {
    driver: {
      evalsha: (sha, keys, args) => late(() => real.evalsha(sha, keys, args)),
      eval: (source, keys, args) => late(() => real.eval(source, keys, args)),
      createSubscriber: (events) => real.createSubscriber(events),
      isTransient: real.isTransient?.bind(real),
    },
    held: () => gate !== undefined,
    let: () => {
      gate?.();
      return answered;
    },
  };
}

for (const fair of [true, false]) {
  const mode = fair ? "fair" : "non-fair";
  eachClient(
    `${mode}: an abandoned attempt that takes the lock after the clean-up is released when its answer comes`,
    async (env) => {
      const late = holdingFirst(await env.client());
      const lock = new RedisLock(late.driver, "job", { fair, ttl: 30_000 });
      const outcome = await lock.acquire({ blockingTimeout: 100 }).catch((err: unknown) => err);
      assert.ok(outcome instanceof LockUnavailableError, `got ${outcome}`);
      assert.equal(late.held(), true, "the attempt was held back, and the clean-up ran before it");
      await late.let(); // the attempt reaches Redis only now, and takes the free lock
      await until(
        async () => await env.server.command("EXISTS", "lock:{job}") === 0,
        "released (not left for its 30 s lease)",
        1_000,
      );
      assert.deepEqual(await env.server.command("KEYS", "*"), []);
      assert.equal(lock.held, false);
    },
  );
}

eachClient(
  "fair: an abandoned attempt that queues the waiter after the clean-up leaves the queue when its answer comes",
  async (env) => {
    const holder = new RedisLock(await env.client(), "job");
    await holder.lock();
    const late = holdingFirst(await env.client());
    const lock = new RedisLock(late.driver, "job");
    const outcome = await lock.acquire({ blockingTimeout: 100 }).catch((err: unknown) => err);
    assert.ok(outcome instanceof LockUnavailableError, `got ${outcome}`);
    await late.let(); // the attempt queues the waiter only now
    await until(
      async () => await env.server.command("EXISTS", "lock:{job}:queue") === 0,
      "the late queue entry removed (not left to expire with its liveness, 3.5 s)",
      1_000,
    );
    await holder.release();
    assert.equal(await env.server.command("DBSIZE"), 0, "the release found nobody queued");
  },
);
