/**
 * A semaphore permit, a read lock or a write lock held by a process that
 * stops (its event loop blocked) past its lease: another takes over at the
 * lease's end, and when the stopped holder runs again it knows it lost the
 * hold, and its late renewal, extend() and release() touch nothing of the
 * new holder's. (The lock's own case: tests/lease_test.ts.)
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisReadWriteLock, RedisSemaphore } from "../mod.ts";
import { clientKind } from "./harness/clients.ts";
import { testEnv, until } from "./harness/env.ts";
import { startChild } from "./harness/process.ts";

const TTL = 600;

for (const kind of ["node-redis v6 RESP3", "ioredis v5"].map(clientKind)) {
  for (const primitive of ["semaphore", "read", "write"] as const) {
    const what = primitive === "semaphore" ? "a semaphore holder" : `a ${primitive} lock holder`;
    test(`${kind.name}: ${what} stopped past its lease cannot renew or release the next holder's hold`, async () => {
      const env = await testEnv(kind);
      const dir = mkdtempSync(join(tmpdir(), "paused-"));
      const [go, blocked] = [join(dir, "go"), join(dir, "blocked")];
      try {
        const args = [env.server.url, kind.name, primitive, "job", `${TTL}`, go, blocked, "2000"];
        const child = startChild("fixtures/paused_holder.ts", args);
        await child.waitFor("held");
        const client = await env.client();
        const next = primitive === "semaphore"
          ? new RedisSemaphore(client, "job", { limit: 1 })
          : new RedisReadWriteLock(client, "job").writeLock();
        const taking = next.acquire({ blockingTimeout: 10_000 });
        writeFileSync(go, "");
        await until(() => existsSync(blocked), "the holder's process is stopped");
        const stoppedAt = performance.now();
        assert.equal(await taking, true, "taken over at the stopped holder's lease end");
        const took = performance.now() - stoppedAt;
        assert.ok(took < TTL + 500, `taken over ${took.toFixed(0)} ms after the stop`);
        assert.equal(await child.exited, 0, child.output());
        const out = child.output();
        for (const line of ["signal true", "held false", "extend LockNotOwnedError"]) {
          assert.match(out, new RegExp(line), out);
        }
        assert.match(out, /release LockNotOwnedError/, out);
        assert.equal(await next.owned(), true, "the new holder still holds");
        assert.ok(await next.remaining() > 20_000, "with its own lease, untouched");
        await next.release();
        assert.deepEqual(await env.server.command("KEYS", "*"), [], "no key left");
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await env.close();
      }
    });
  }
}
