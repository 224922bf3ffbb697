// Issue 13, item 5: Redis down is not "lock busy". A wait whose attempts all
// failed on connection errors, or got no answer, rejects with an error (the
// client's, or a LockError whose cause it is, or one saying Redis did not
// answer); `false` and LockTimeoutError mean someone else held the lock.
// Some clients reject a command at once while disconnected, others queue it:
// both must end as an error.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { LockTimeoutError } from "../mod.ts";
import { eachClient, within } from "./harness/env.ts";
import { eachKind, MODES } from "./harness/fault_modes.ts";

const TIMEOUT = 500;
const GRACE = 500; // ATTEMPT_GRACE_MS
const SLACK = 150;

for (const mode of MODES) {
  eachKind(
    `${mode.name}: with Redis down, acquire() and lock() reject with an error, not false or LockTimeoutError`,
    async (env, kind) => {
      const lock = mode.make(await env.client(), "job");
      await env.server.stop();
      try {
        const wait = { blockingTimeout: TIMEOUT, ...mode.wait };
        const calls = { acquire: () => lock.acquire(wait), lock: () => lock.lock(wait) };
        for (const [call, waiting] of Object.entries(calls)) {
          const outcome = waiting().then((value) => value, (err: unknown) => err);
          const result = await within(outcome, TIMEOUT + GRACE + SLACK, `${call}()`);
          assert.ok(result instanceof Error, `${kind.name}: ${call}() resolved ${result}`);
          assert.ok(!(result instanceof LockTimeoutError), `${call}() rejected with ${result}`);
        }
      } finally {
        // Back up, so that the clients can close (ioredis queues its QUIT).
        mkdirSync(env.server.dir, { recursive: true });
        await env.server.restart();
      }
    },
  );

  eachClient(
    `${mode.name}: a lock held by another client still gives false and LockTimeoutError`,
    async (env) => {
      const holder = mode.make(await env.client(), "job");
      await holder.lock();
      const lock = mode.make(await env.client(), "job");
      const wait = { blockingTimeout: 300, ...mode.wait };
      assert.equal(await lock.acquire(wait), false);
      await assert.rejects(lock.lock(wait), LockTimeoutError);
      await holder.release();
    },
  );
}
