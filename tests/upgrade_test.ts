/**
 * A rolling upgrade: processes of the previous version (identity records in
 * `:who:` keys, fixtures/previous) and of this one (identity in tokens) on
 * one lock.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { RedisLock } from "../mod.ts";
import * as previous from "./fixtures/previous/_scripts.ts";
import { testEnv, until } from "./harness/env.ts";

test("a hand-off by a previous-version releaser gives this version's fencing waiter a fencing token", async () => {
  const env = await testEnv();
  try {
    const keys = ["lock:{job}", "lock:{job}:fence", "lock:{job}:queue", "lock:{job}:racers"];
    const oldMark = "ab".repeat(8);
    const oldToken = `${crypto.randomUUID()}@${oldMark}.30000`;
    const record = `lock:{job}:who:${oldToken}`;
    // The old process takes the lock with its ACQUIRE.
    const took = await env.server.command(
      "EVAL",
      previous.ACQUIRE.source,
      "4",
      keys[0],
      keys[1],
      keys[3],
      record,
      oldToken,
      "30000",
      "1",
      "0",
      "",
    ) as number[];
    assert.equal(Number(took[0]), 1);
    const waiter = new RedisLock(await env.client(), "job", {
      fencing: true,
      handoffTimeout: 5_000,
    });
    const waiting = waiter.lock();
    await until(async () => Number(await env.server.command("ZCARD", keys[2])) === 2, "queued");
    // The old process releases with its RELEASE: a published hand-off.
    const released = await env.server.command(
      "EVAL",
      previous.RELEASE.source,
      "5",
      ...keys,
      record,
      oldToken,
      "lock:{job}:wake",
      "5000",
      "PUBLISH",
      `@${oldMark}.`,
    );
    assert.equal(Number(released), 2, "handed on by a message");
    await waiting;
    const fence = waiter.fencingToken;
    await waiter.release();
    assert.ok(fence! > took[1], `the new holder's fencing token ${fence} follows ${took[1]}`);
  } finally {
    await env.close();
  }
});
