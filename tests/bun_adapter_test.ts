/**
 * The Bun adapter's own duties (Bun only: its `RedisClient` exists nowhere
 * else). What it shares with every client is in the behaviour suite.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { type LockClient, RedisLock } from "../mod.ts";
import { lockKeys } from "../lib/redis/_keys.ts";
import { clientKind } from "./harness/clients.ts";
import { subscribers, until } from "./harness/env.ts";
import { type RedisServer, startRedis } from "./harness/redis.ts";

const skip = "Bun" in globalThis ? false : "Bun's RedisClient exists only on Bun";

/** The server's client connections, leaving out the one that asks. */
async function connections(server: RedisServer): Promise<string[]> {
  const list = String(await server.command("CLIENT", "LIST")).trim().split("\n");
  return list.filter((line) => !line.includes("cmd=client|list"));
}

/** A waiter on `client` that subscribed, then took the lock: the subscriber connection is open. */
async function waitOnce(server: RedisServer, client: LockClient): Promise<void> {
  const holder = new RedisLock(client, "x");
  await holder.lock();
  const waiter = new RedisLock(client, "x");
  const acquired = waiter.acquire({ blockingTimeout: 10_000 });
  await until(async () => await subscribers(server, lockKeys("x").channel) === 1, "subscribed");
  await holder.release();
  assert.equal(await acquired, true);
  await waiter.release();
}

test("Bun RedisClient: closing the client closes its subscriber connection too", {
  skip,
}, async () => {
  const server = await startRedis();
  try {
    const { client, close } = await clientKind("Bun RedisClient").connect(server.url);
    await waitOnce(server, client);
    const open = await connections(server);
    assert.equal(open.length, 2, `the client and its subscriber:\n${open.join("\n")}`);
    await close();
    await until(async () => (await connections(server)).length === 0, "no connection left");
  } finally {
    await server.stop();
  }
});

test("Bun RedisClient: the application's onclose still runs, also one set after a lock waited", {
  skip,
}, async () => {
  const server = await startRedis();
  try {
    const { client, close } = await clientKind("Bun RedisClient").connect(server.url);
    const bun = client as unknown as { onclose: ((error: Error) => void) | null };
    const seen: string[] = [];
    bun.onclose = () => seen.push("first");
    await waitOnce(server, client);
    const second = () => void seen.push("second");
    bun.onclose = second;
    assert.equal(bun.onclose, second, "reads back the application's own handler");
    await close();
    await until(async () => (await connections(server)).length === 0, "no connection left");
    assert.deepEqual(seen, ["second"]);
  } finally {
    await server.stop();
  }
});
