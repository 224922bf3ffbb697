/**
 * Benchmarks: `RedisLock` (Pub/Sub wake-ups) against `RedisSpinLock`
 * (polling every 10 ms) with 1, 4 and 16 contenders, and the cost of an
 * uncontended acquire + release against raw `SET NX PX` + compare-and-delete.
 *
 * One iteration of a contention case: each of N contenders (its own client
 * and lock instance, made once outside the timed part) acquires and releases
 * the lock once, all started together. A throwaway redis-server is started
 * for the run (never the shared one) and stopped on unload.
 *
 * Run:  deno bench -A bench/      (or: deno task bench)
 */

import { rmSync } from "node:fs";
import { createClient } from "redis";
import { RedisLock, RedisSpinLock } from "../mod.ts";

/** Either lock of this package. */
type AnyLock = RedisLock | RedisSpinLock;
import { startRedis } from "../tests/harness/redis.ts";

const CONTENDERS = [1, 4, 16] as const;
const SPIN_SLEEP_MS = 10;

const server = await startRedis();
const clients = await Promise.all(
  Array.from({ length: Math.max(...CONTENDERS) }, async () => {
    const client = createClient({ url: server.url });
    client.on("error", () => {});
    return await client.connect();
  }),
);

// The server's scratch directory, removed on unload: stop() would remove it
// only after awaiting the exit, and an "unload" handler cannot await.
const [, serverDir] = await server.command("CONFIG", "GET", "dir") as string[];

globalThis.addEventListener("unload", () => {
  for (const client of clients) void client.close().catch(() => {});
  void server.stop(); // SIGKILLs the server synchronously
  rmSync(serverDir, { recursive: true, force: true });
});

/** One contended round: every lock acquires and releases once, concurrently. */
async function round(locks: AnyLock[], acquire: (lock: AnyLock) => Promise<boolean>) {
  await Promise.all(locks.map(async (lock) => {
    if (!(await acquire(lock))) throw new Error(`${lock.name}: not acquired`);
    await lock.release();
  }));
}

for (const n of CONTENDERS) {
  const group = `${n} contender${n === 1 ? "" : "s"}`;
  // Bound the slow spin cases: roughly n * sleepTime ms per iteration.
  const budget = n === 1 ? {} : { n: n === 4 ? 100 : 40, warmup: 5 };
  const pubsub = clients.slice(0, n).map((c) => new RedisLock(c, `bench:pubsub:${n}`));
  const spin = clients.slice(0, n).map((c) => new RedisSpinLock(c, `bench:spin:${n}`));
  Deno.bench({
    name: "RedisLock (Pub/Sub)",
    group,
    baseline: true,
    ...budget,
    // An `async` function: Deno only awaits fns that are AsyncFunctions.
    fn: async () => await round(pubsub, (lock) => lock.acquire()),
  });
  Deno.bench({
    name: `RedisSpinLock (sleepTime ${SPIN_SLEEP_MS})`,
    group,
    ...budget,
    fn: async () =>
      await round(spin, (lock) => (lock as RedisSpinLock).acquire({ sleepTime: SPIN_SLEEP_MS })),
  });
}

const RELEASE_IF_OWNER =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
const raw = clients[0];
const single = new RedisLock(raw, "bench:uncontended:lock");

Deno.bench({
  name: "raw SET NX PX + EVAL compare-and-delete",
  group: "uncontended",
  baseline: true,
  async fn() {
    const key = "bench:uncontended:raw";
    const token = crypto.randomUUID();
    const set: unknown = await raw.sendCommand(["SET", key, token, "NX", "PX", "30000"]);
    if (set !== "OK") {
      throw new Error("raw SET NX failed");
    }
    await raw.sendCommand(["EVAL", RELEASE_IF_OWNER, "1", key, token]);
  },
});

Deno.bench({
  name: "RedisLock acquire + release",
  group: "uncontended",
  async fn() {
    if (!(await single.acquire({ blocking: false }))) throw new Error("not acquired");
    await single.release();
  },
});
