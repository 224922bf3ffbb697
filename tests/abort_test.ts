import assert from "node:assert/strict";
import { RedisLock, RedisSpinLock } from "../mod.ts";
import { eachClient, subscribers, until } from "./harness/env.ts";
import { asleep, modeNamed, tracked } from "./harness/fault_modes.ts";

const CHANNEL = "lock:{job}:wake";

for (const Lock of [RedisLock, RedisSpinLock]) {
  eachClient(`${Lock.name}: a signal that never aborts changes nothing`, async (env) => {
    const lock = new Lock(await env.client(), "job");
    assert.equal(await lock.acquire({ signal: new AbortController().signal }), true);
    await lock.release();
  });

  eachClient(
    `${Lock.name}: an already aborted signal rejects with its reason and writes nothing`,
    async (env) => {
      const lock = new Lock(await env.client(), "job");
      const reason = new Error("already");
      await assert.rejects(
        lock.acquire({ signal: AbortSignal.abort(reason) }),
        (e) => e === reason,
      );
      assert.equal(await env.server.command("EXISTS", "lock:{job}"), 0);
      assert.equal(await env.server.command("EXISTS", "lock:{job}:fence"), 0);
    },
  );

  eachClient(
    `${Lock.name}: aborting while waiting rejects with the reason and leaves nothing`,
    async (env) => {
      const holder = new Lock(await env.client(), "job");
      await holder.lock();
      const driver = tracked(await env.client());
      const waiter = new Lock(driver, "job");
      const controller = new AbortController();
      const waiting = waiter.acquire({ signal: controller.signal, blockingTimeout: Infinity });
      await until(() => driver.sent > 0, "the waiter's first attempt");
      await asleep(
        [driver],
        1,
        modeNamed(Lock === RedisSpinLock ? "RedisSpinLock" : "RedisLock fair"),
      );
      const reason = new Error("cancelled");
      const abortedAt = performance.now();
      controller.abort(reason);
      await assert.rejects(waiting, (e) => e === reason);
      assert.ok(performance.now() - abortedAt < 200);
      assert.equal(await subscribers(env.server, CHANNEL), 0);
      assert.equal(await holder.owned(), true);
      assert.equal(waiter.held, false);
      await holder.release();
      assert.equal(await waiter.acquire({ blocking: false }), true, "the instance is usable again");
      await waiter.release();
    },
  );
}

eachClient(
  "a lock taken at the moment of the abort is released before the rejection",
  async (env) => {
    const client = await env.client();
    const controller = new AbortController();
    const lock = new RedisLock(client, "job");
    // The abort lands while the (successful) attempt is in flight.
    const acquiring = lock.acquire({ signal: controller.signal });
    controller.abort(new Error("late"));
    await assert.rejects(acquiring, /late/);
    assert.equal(await env.server.command("EXISTS", "lock:{job}"), 0);
    assert.equal(lock.held, false);
  },
);
