/**
 * Test environment: a throwaway redis-server plus clients of one kind, all
 * closed by `close()`. The behaviour suite runs once per client kind.
 */

import { test } from "node:test";
import { createClient as createClient6 } from "redis";
import { createClient as createClient5 } from "redis5";
import type { LockClient } from "../mod.ts";
import { resolveDriver } from "../lib/_resolve.ts";
import { SubscriberManager } from "../lib/subscriber_manager.ts";
import { type RedisServer, startRedis } from "./_redis.ts";

/** A Redis client library under test, as a lock sees it. */
export interface ClientKind {
  readonly name: string;
  connect(url: string): Promise<{ client: LockClient; close(): Promise<void> }>;
}

function nodeRedis(name: string, create: typeof createClient6, RESP?: 2 | 3): ClientKind {
  return {
    name,
    async connect(url) {
      const client = create({ url, RESP } as Parameters<typeof createClient6>[0]);
      client.on("error", () => {}); // reconnects are part of some tests
      await client.connect();
      return { client: client as unknown as LockClient, close: () => client.close() };
    },
  };
}

/** Every client kind the suite runs against. */
export const CLIENT_KINDS: readonly ClientKind[] = [
  nodeRedis("node-redis v6 RESP3", createClient6),
  nodeRedis("node-redis v6 RESP2", createClient6, 2),
  nodeRedis("node-redis v5 RESP2", createClient5 as unknown as typeof createClient6),
];

/** A server and clients for one test. */
export interface TestEnv {
  readonly server: RedisServer;
  /** A new client of the kind under test, closed by `close()`. */
  client(): Promise<LockClient>;
  /** Closes every client, then stops the server. */
  close(): Promise<void>;
}

/** Starts a fresh server for one test. */
export async function testEnv(kind: ClientKind = CLIENT_KINDS[0]): Promise<TestEnv> {
  const server = await startRedis();
  const closers: Array<() => Promise<void>> = [];
  return {
    server,
    async client() {
      const { client, close } = await kind.connect(server.url);
      closers.push(close);
      return client;
    },
    async close() {
      await Promise.allSettled(closers.map((close) => close()));
      await server.stop();
    },
  };
}

/** Resolves after `ms` (for holders that must hold for a while). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How many subscribers `channel` has on the server. */
export async function subscribers(server: RedisServer, channel: string): Promise<number> {
  const reply = await server.command("PUBSUB", "NUMSUB", channel);
  return (reply as [string, number])[1];
}

/**
 * Registers `name` once per client kind, each run with a fresh server that
 * is stopped (and its clients closed) whatever the outcome.
 */
export function eachClient(name: string, fn: (env: TestEnv) => Promise<void>): void {
  for (const kind of CLIENT_KINDS) {
    test(`${kind.name}: ${name}`, async () => {
      const env = await testEnv(kind);
      try {
        await fn(env);
      } finally {
        await env.close();
      }
    });
  }
}

/** How many times `command` ran on the server (from INFO commandstats). */
export async function commandCalls(server: RedisServer, command: string): Promise<number> {
  const stats = String(await server.command("INFO", "commandstats"));
  return Number(stats.match(new RegExp(`cmdstat_${command}:calls=(\\d+)`))?.[1] ?? 0);
}

/**
 * Resolves once `count` waiters are queued on `client`'s subscriber manager
 * (each has failed its first attempt and joined), so tests can fix arrival order.
 */
export async function queued(client: LockClient, count: number): Promise<void> {
  const manager = SubscriberManager.for(resolveDriver(client));
  while (manager.waiterCount < count) await delay(2);
}
