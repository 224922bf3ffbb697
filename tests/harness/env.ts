/**
 * Test environment: a throwaway redis-server plus clients of one kind, all
 * closed by `close()`. The behaviour suite runs once per client kind.
 */

import { test } from "node:test";
import type { LockClient } from "../../mod.ts";
import { CLIENT_KINDS, type ClientKind } from "./clients.ts";
import { resolveDriver } from "../../lib/clients/lock_client.ts";
import { SubscriberManager } from "../../lib/wait/subscriber_manager.ts";
import { type RedisServer, startRedis } from "./redis.ts";
import { lockKeys } from "../../lib/redis/_keys.ts";
import { RELEASE } from "../../lib/redis/_scripts.ts";

export { CLIENT_KINDS, type ClientKind };

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

/** Polls `condition` every 5 ms; rejects naming `what` if it does not hold within `ms`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await delay(5);
  }
}

/** Blocks the event loop for `ms`, as a paused process (no timer runs meanwhile). */
export function freeze(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy */ }
}

/** `promise`, or a rejection naming `what` if it has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, hung]).finally(() => clearTimeout(timer));
}

/** The channels subscribed on the server now. */
export async function channels(server: RedisServer): Promise<string[]> {
  return await server.command("PUBSUB", "CHANNELS") as string[];
}

/**
 * How many subscriptions wait on the lock whose channel is `channel`: the
 * channel's own (race mode) plus every process's hand-off channel
 * `<channel>:<mark>` (fair mode).
 */
export async function subscribers(server: RedisServer, channel: string): Promise<number> {
  const grants = await server.command("PUBSUB", "CHANNELS", `${channel}:*`) as string[];
  const reply = await server.command("PUBSUB", "NUMSUB", channel, ...grants) as unknown[];
  let n = 0;
  for (let i = 1; i < reply.length; i += 2) n += Number(reply[i]);
  return n;
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

/** Redis's clock in ms (the one every lease and liveness deadline is on). */
export async function redisNow(server: RedisServer): Promise<number> {
  const [s, us] = await server.command("TIME") as string[];
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/** How many waiters a fair queue key holds (their entries score > 0), live or dead. */
export async function queueLength(server: RedisServer, queue: string): Promise<number> {
  return Number(await server.command("ZCOUNT", queue, "(0", "+inf"));
}

/** Resolves once the fair queue `queue` holds `n` waiters. */
export function queuedIn(server: RedisServer, queue: string, n: number): Promise<void> {
  return until(async () => await queueLength(server, queue) === n, `${n} queued in ${queue}`);
}

/** Live members of a set scored by lease ends (a semaphore's holders, a lock's readers). */
export async function liveMembers(server: RedisServer, key: string): Promise<number> {
  return Number(await server.command("ZCOUNT", key, `(${await redisNow(server)}`, "+inf"));
}

/**
 * Resolves once `count` waiters are queued on `client`'s subscriber manager
 * (each has failed its first attempt and joined), so tests can fix arrival order.
 */
export async function queued(client: LockClient, count: number): Promise<void> {
  const manager = SubscriberManager.for(resolveDriver(client));
  while (manager.waiterCount < count) await delay(2);
}

/**
 * Releases the lock `name` as a holder of another process would (token
 * `token`, which carries no mark of this process): the release script run
 * by the server's own connection, so a hand-off is published as a `grant`.
 * @returns The script's reply (2: handed on by a message).
 */
export async function releaseFromElsewhere(
  server: RedisServer,
  name: string,
  token: string,
): Promise<unknown> {
  const { key, fence, queue, racers, channel } = lockKeys(name);
  return await server.command(
    "EVAL",
    RELEASE.source,
    "4",
    key,
    fence,
    queue,
    racers,
    token,
    channel,
    "3000",
    "PUBLISH",
  );
}
