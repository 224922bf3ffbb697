import { test } from "node:test";
import assert from "node:assert/strict";
import { LockNotOwnedError, RedisLock } from "../mod.ts";
import { CLIENT_KINDS, delay, eachClient } from "./harness/env.ts";
import { startChild } from "./harness/process.ts";
import { startRedis } from "./harness/redis.ts";

eachClient("many contenders on separate connections never overlap, and all finish", async (env) => {
  let inside = 0;
  let overlaps = 0;
  let acquisitions = 0;
  const contender = async () => {
    const lock = new RedisLock(await env.client(), "shared", { blockingTimeout: 20_000 });
    for (let i = 0; i < 15; i++) {
      await lock.lock();
      if (++inside > 1) overlaps++;
      await delay(1);
      inside--;
      acquisitions++;
      await lock.release();
    }
  };
  await Promise.all(Array.from({ length: 8 }, contender));
  assert.equal(overlaps, 0);
  assert.equal(acquisitions, 8 * 15);
});

eachClient(
  "await using releases at the end of the scope, also when the block throws",
  async (env) => {
    const client = await env.client();
    await assert.rejects(async () => {
      await using held = await new RedisLock(client, "scoped").lock();
      assert.equal(await held.owned(), true);
      throw new Error("boom");
    }, /boom/);
    assert.equal(await new RedisLock(client, "scoped").locked(), false);
  },
);

eachClient("disposing a lock whose lease ran out does nothing", async (env) => {
  const client = await env.client();
  const lock = new RedisLock(client, "scoped", { ttl: 50, autoExtend: false });
  await lock.lock();
  await delay(100);
  const next = new RedisLock(client, "scoped");
  await next.lock();
  await lock[Symbol.asyncDispose](); // no throw, and the next holder keeps its lock
  assert.equal(await next.owned(), true);
  await assert.rejects(lock.release(), LockNotOwnedError);
  await next.release();
});

eachClient(
  "a failed release() propagates the Redis error and keeps the lock held for a retry",
  async (env) => {
    const lock = new RedisLock(await env.client(), "retry");
    await lock.lock();
    await env.server.command("ACL", "SETUSER", "default", "-evalsha", "-eval"); // scripts now fail
    await assert.rejects(lock.release(), /NOPERM/);
    assert.equal(lock.held, true);
    await env.server.command("ACL", "SETUSER", "default", "+@all");
    await lock.release();
    assert.equal(await lock.locked(), false);
  },
);

for (const { name } of CLIENT_KINDS) {
  test(`${name}: a script that takes locks (and forgets one) and closes its client exits by itself`, async () => {
    const server = await startRedis();
    try {
      const child = startChild("fixtures/clean_exit.ts", [server.url, name]);
      await child.waitFor("done");
      const exitedInTime = await Promise.race([child.exited, delay(5_000).then(() => "hung")]);
      if (exitedInTime === "hung") child.process.kill("SIGKILL");
      assert.equal(exitedInTime, 0, child.output());
    } finally {
      await server.stop();
    }
  });
}
