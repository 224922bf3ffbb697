import { test } from "node:test";
import assert from "node:assert/strict";
import { RedisLock } from "../mod.ts";
import { lockKeys } from "../lib/redis/_keys.ts";
import { eachClient } from "./harness/env.ts";
import { startRedis } from "./harness/redis.ts";

const HOSTILE = [
  "a b",
  "{x}",
  "}{",
  "{",
  "}",
  "*",
  "?",
  "[a-z]",
  "line\nbreak",
  "nul\0byte",
  "ünïcødé ✓ 🔒",
  "%7B",
  "%",
  "x}:fence",
  "lock:{x}",
  "k".repeat(4096),
];

eachClient("any string works as a name and locks only its own key", async (env) => {
  const client = await env.client();
  const locks = HOSTILE.map((name) => new RedisLock(client, name));
  for (const lock of locks) assert.equal(await lock.acquire({ blocking: false }), true, lock.name);
  for (const lock of locks) {
    assert.equal(await new RedisLock(client, lock.name).acquire({ blocking: false }), false);
  }
  // Each lock's key, and nothing else (who holds it is in its token).
  assert.equal(await env.server.command("DBSIZE"), HOSTILE.length);
  for (const lock of locks) await lock.release();
  assert.equal(await env.server.command("DBSIZE"), 0);
});

test("different names never share a key or channel", () => {
  const seen = new Map<string, string>();
  const names = [...HOSTILE, "x", "x:fence", "x}:wake", "%25", "%7D"];
  for (const name of names) {
    for (const key of Object.values(lockKeys(name))) {
      assert.equal(seen.get(key) ?? name, name, `${key} is shared`);
      seen.set(key, name);
    }
  }
});

test("every key and channel of a lock hashes to one cluster slot", async () => {
  const dir = `cluster-${Date.now()}.conf`;
  const server = await startRedis(["--cluster-enabled", "yes", "--cluster-config-file", dir]);
  try {
    for (const name of HOSTILE) {
      const { key, fence, channel, who } = lockKeys(name);
      const slots = new Set();
      for (const k of [key, fence, channel, `${who}some-token`]) {
        slots.add(await server.command("CLUSTER", "KEYSLOT", k));
      }
      assert.equal(slots.size, 1, JSON.stringify(name));
    }
  } finally {
    await server.stop();
  }
});
