/**
 * Fault-injection harness: the three ways to hold a lock (every fault test
 * loops over them), drivers that count the commands in flight, and what
 * the fault tests look at on the server.
 */

import { test } from "node:test";
import type { LockClient, LockOptions, RedisDriver, SpinAcquireOptions } from "../../mod.ts";
import { RedisLock, RedisSpinLock } from "../../mod.ts";

/** Either lock of this package. */
type AnyLock = RedisLock | RedisSpinLock;
import { resolveDriver } from "../../lib/clients/lock_client.ts";
import { lockKeys } from "../../lib/redis/_keys.ts";
import { SubscriberManager } from "../../lib/wait/subscriber_manager.ts";
import { CLIENT_KINDS, type ClientKind, type TestEnv, testEnv, until } from "./env.ts";
import type { RedisServer } from "./redis.ts";

/** One way to hold a lock. */
export interface Mode {
  readonly name: string;
  /** Whether its waiters sleep on Pub/Sub (and so subscribe a channel). */
  readonly pubsub: boolean;
  /** Whether its waiters queue in Redis (fair mode). */
  readonly fair: boolean;
  /** A lock of this mode. */
  make(client: LockClient, name: string, options?: LockOptions): AnyLock;
  /** Acquire options the mode needs besides the test's (the spin lock's sleepTime). */
  readonly wait: SpinAcquireOptions;
}

/**
 * RedisLock `{ fair: false }` (Pub/Sub wake-ups and a race), RedisLock
 * `{ fair: true }` (queue and hand-off; RedisLock's default) and RedisSpinLock
 * (polling every 10 ms).
 */
export const MODES: readonly Mode[] = [
  {
    name: "RedisLock non-fair",
    pubsub: true,
    fair: false,
    make: (client, name, options) => new RedisLock(client, name, { ...options, fair: false }),
    wait: {},
  },
  {
    name: "RedisLock fair",
    pubsub: true,
    fair: true,
    make: (client, name, options) => new RedisLock(client, name, { ...options, fair: true }),
    wait: {},
  },
  {
    name: "RedisSpinLock",
    pubsub: false,
    fair: false,
    make: (client, name, options) => new RedisSpinLock(client, name, options),
    wait: { sleepTime: 10 },
  },
];

/** The mode called `name` (for child processes, which get it as an argument). */
export function modeNamed(name: string): Mode {
  const mode = MODES.find((m) => m.name === name);
  if (!mode) throw new Error(`no mode ${name}; known: ${MODES.map((m) => m.name)}`);
  return mode;
}

/** How many connections are in Pub/Sub mode on the server now. */
export async function pubsubConnections(server: RedisServer): Promise<number> {
  const list = String(await server.command("CLIENT", "LIST", "TYPE", "pubsub")).trim();
  return list === "" ? 0 : list.split("\n").length;
}

/** A driver that counts its commands still awaiting a reply. */
export interface TrackedDriver extends RedisDriver {
  /** Commands sent and not yet answered. */
  readonly inflight: number;
  /** Commands sent so far. */
  readonly sent: number;
}

/** Wraps `client`'s driver to count commands in flight (so a test can act while all sleep). */
export function tracked(client: LockClient): TrackedDriver {
  const driver = resolveDriver(client);
  let inflight = 0;
  let sent = 0;
  const count =
    <A extends unknown[]>(run: (...args: A) => Promise<unknown>) => async (...args: A) => {
      sent++;
      inflight++;
      try {
        return await run(...args);
      } finally {
        inflight--;
      }
    };
  return {
    evalsha: count((sha, keys, args) => driver.evalsha(sha, keys, args)),
    eval: count((source, keys, args) => driver.eval(source, keys, args)),
    createSubscriber: (events) => driver.createSubscriber(events),
    isTransient: driver.isTransient?.bind(driver),
    get inflight() {
      return inflight;
    },
    get sent() {
      return sent;
    },
  };
}

/** Like `eachClient`, but `fn` also gets the client kind; `kinds` (default: every one) to run on. */
export function eachKind(
  name: string,
  fn: (env: TestEnv, kind: ClientKind) => Promise<void>,
  kinds: readonly ClientKind[] = CLIENT_KINDS,
): void {
  for (const kind of kinds) {
    test(`${kind.name}: ${name}`, async () => {
      const env = await testEnv(kind);
      try {
        await fn(env, kind);
      } finally {
        await env.close();
      }
    });
  }
}

/**
 * Resolves once `waiters` waiters on `drivers` are queued locally with their
 * subscriptions confirmed, and no command is in flight: all are asleep.
 */
export async function asleep(
  drivers: TrackedDriver[],
  waiters: number,
  mode: Mode,
  names = ["job"],
): Promise<void> {
  if (!mode.pubsub) {
    return await until(() => drivers.every((d) => d.inflight === 0), "every waiter asleep");
  }
  // Fair waiters sleep on this process's hand-off channel, racers on the lock's.
  const channels = names.map((name) => lockKeys(name)[mode.fair ? "grants" : "channel"]);
  await sleepingOn(drivers, waiters, ...channels);
}

/**
 * Resolves once `n` waiters on `drivers` sleep on `channels` (each
 * subscribed, nothing in flight): any primitive's waiters.
 */
export async function sleepingOn(
  drivers: TrackedDriver[],
  n: number,
  ...channels: string[]
): Promise<void> {
  const managers = drivers.map((d) => SubscriberManager.for(d));
  await until(
    () =>
      managers.reduce((k, m) => k + m.waiterCount, 0) === n &&
      managers.every((m) => channels.every((c) => m.isLive(c))) &&
      drivers.every((d) => d.inflight === 0),
    "every waiter asleep",
  );
}
