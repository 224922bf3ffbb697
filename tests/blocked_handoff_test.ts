/**
 * The semaphore's and the read-write lock's hand-offs under a paused waiter:
 * a waiter whose process is stopped (its event loop blocked) past the lease
 * of a hand-off made to it, while another waiter takes the permit or lock,
 * must not count the late grant as a holding once it resumes (the stale
 * hand-off rule of `lib/wait/_fair_wait.ts`, fed by these primitives'
 * scripts: every queued answer and every hand-off names the queue entry).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisReadWriteLock, RedisSemaphore } from "../mod.ts";
import { semaphoreKeys } from "../lib/redis/_semaphore_keys.ts";
import { readWriteKeys } from "../lib/redis/_rw_keys.ts";
import { CLIENT_KINDS, testEnv, until } from "./harness/env.ts";
import { startChild } from "./harness/process.ts";

const KIND = CLIENT_KINDS[0];
/** The releaser's handoffTimeout: the hand-off holds the permit 500 ms. */
const HANDOFF_MS = 500;
/** How long the waiter's process is stopped: well past the hand-off. */
const BLOCK_MS = 1_500;

for (const primitive of ["semaphore", "rwlock"] as const) {
  test(`${primitive}: a waiter stopped past its hand-off's lease, while another takes over, does not hold on the late grant`, async () => {
    const env = await testEnv();
    const dir = mkdtempSync(join(tmpdir(), "blocked-"));
    const [go, blocked] = [join(dir, "go"), join(dir, "blocked")];
    const name = "paused";
    const queue = primitive === "semaphore" ? semaphoreKeys(name).queue : readWriteKeys(name).queue;
    const queued = async () => Number(await env.server.command("ZCOUNT", queue, "(0", "+inf"));
    const make = async (handoffTimeout: number) => {
      const client = await env.client();
      return primitive === "semaphore"
        ? new RedisSemaphore(client, name, { limit: 1, handoffTimeout })
        : new RedisReadWriteLock(client, name, { handoffTimeout }).writeLock();
    };
    try {
      const holder = await make(HANDOFF_MS);
      await holder.lock();
      const child = startChild("fixtures/blocked_primitive_waiter.ts", [
        env.server.url,
        KIND.name,
        primitive,
        name,
        go,
        blocked,
        `${BLOCK_MS}`,
      ]);
      await until(async () => await queued() === 1, "W queued");
      const taker = await make(300); // refreshes every 100 ms
      const taking = taker.acquire({ blockingTimeout: 20_000 });
      await until(async () => await queued() === 2, "W2 queued behind W");
      writeFileSync(go, "");
      await until(() => existsSync(blocked), "W's process stopped");
      await holder.release(); // hands to W, whose process cannot take it up
      assert.equal(await taking, true, "W2 takes over once the unused hand-off ran out");
      // W2 holds while W resumes: W's late grant is doubted, and the attempt
      // that decides finds W2 holding and puts W back in the queue.
      await until(async () => await queued() === 1, "W queued again after it resumed", 10_000);
      assert.doesNotMatch(child.output(), /acquired/, "W reported a holding while W2 held");
      const releasedAt = Date.now();
      await taker.release();
      await child.exited;
      const [, ok, held, at] = child.output().match(/acquired (\w+) held=(\w+) at=(\d+)/) ?? [];
      assert.equal(`${ok} ${held}`, "true true", child.output());
      assert.ok(Number(at) >= releasedAt, "W acquired only after W2 released");
      assert.match(child.output(), /owned true/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await env.close();
    }
  });
}
