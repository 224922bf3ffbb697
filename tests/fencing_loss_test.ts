// Issue 13, item 9: fencing tokens keep growing when Redis loses its data.
// The harness server runs without persistence (--save "" --appendonly no),
// so a restart empties it, the fencing counter included; a token taken after
// it must still be greater than every token before.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RedisLock } from "../mod.ts";
import { testEnv, until } from "./harness/env.ts";
import { clientKind } from "./harness/clients.ts";
import { MODES } from "./harness/fault_modes.ts";

const QUEUE = "lock:{job}:queue";
const WAIT = { blockingTimeout: 5_000 }; // the client may still be reconnecting

// node-redis 5.9.0 can be left on a dead socket by a restart (see _clients.ts):
// node-redis v6 and ioredis v5 stand for the clients here.
for (const kind of ["node-redis v6 RESP3", "ioredis v5"].map(clientKind)) {
  for (const mode of MODES) {
    test(`${kind.name}: ${mode.name}: a fencing token taken after Redis restarted empty is greater than every earlier one`, async () => {
      const env = await testEnv(kind);
      try {
        const lock = mode.make(await env.client(), "job", { fencing: true });
        const before: number[] = [];
        for (let i = 0; i < 3; i++) {
          await lock.lock({ ...WAIT, ...mode.wait });
          before.push(lock.fencingToken!);
          await lock.release();
        }
        await env.server.restart();
        assert.equal(await env.server.command("DBSIZE"), 0, "the restart lost the data");
        await lock.lock({ ...WAIT, ...mode.wait });
        const after = lock.fencingToken!;
        await lock.release();
        assert.ok(after > Math.max(...before), `token ${after} after ${before.join(", ")}`);
      } finally {
        await env.close();
      }
    });
  }

  test(`${kind.name}: fair: a hand-off's fencing token after Redis restarted empty is greater than every earlier one`, async () => {
    const env = await testEnv(kind);
    try {
      const lock = new RedisLock(await env.client(), "job", { fencing: true });
      const before: number[] = [];
      for (let i = 0; i < 3; i++) {
        await lock.lock(WAIT);
        before.push(lock.fencingToken!);
        await lock.release();
      }
      await env.server.restart();
      assert.equal(await env.server.command("DBSIZE"), 0, "the restart lost the data");
      // The holder takes no token, so the waiter's comes from the hand-off alone.
      const holder = new RedisLock(await env.client(), "job");
      await holder.lock(WAIT);
      const acquired = lock.acquire(WAIT);
      await until(
        async () => await env.server.command("ZCOUNT", QUEUE, "(0", "+inf") === 1,
        "queued",
      );
      await holder.release(); // hands the lock to the waiter, with a token
      assert.equal(await acquired, true);
      const after = lock.fencingToken!;
      await lock.release();
      assert.ok(after > Math.max(...before), `token ${after} after ${before.join(", ")}`);
    } finally {
      await env.close();
    }
  });
}
