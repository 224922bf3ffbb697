/**
 * Contention demo: several workers, each with its own Redis connection and
 * its own lock instance, loop acquire → ~2 ms critical section → release on
 * one lock for a few seconds: with `RedisLock` in fair mode (the default:
 * queue and hand-off), with `RedisLock` non-fair (Pub/Sub wake-ups and a
 * race), then with `RedisSpinLock` (polling every 10 ms). For each mode it prints the
 * acquisitions (total and per worker), the overlaps seen by an in-process
 * counter (must be 0) and the hand-off latency: from just before a release is
 * sent to another worker's acquire() resolving.
 *
 * Run:  deno task demo [workers=6] [seconds=3]
 *       REDIS_URL=redis://host:6379 deno task demo   (else a throwaway redis-server is started)
 */

import { spawnSync } from "node:child_process";
import { createClient } from "redis";
import { type LockClient, RedisLock, RedisSpinLock } from "../mod.ts";

/** Either lock of this package. */
type AnyLock = RedisLock | RedisSpinLock;
import { type RedisServer, startRedis } from "../tests/harness/redis.ts";

const WORKERS = Number(Deno.args[0] ?? 6);
const SECONDS = Number(Deno.args[1] ?? 3);
const CRITICAL_MS = 2;
const SPIN_SLEEP_MS = 10;

interface Mode {
  readonly label: string;
  create(client: LockClient, name: string): AnyLock;
  acquire(lock: AnyLock, signal: AbortSignal): Promise<boolean>;
}

const MODES: Mode[] = [
  {
    label: "RedisLock (fair, the default)",
    create: (client, name) => new RedisLock(client, name),
    acquire: (lock, signal) => lock.acquire({ signal }),
  },
  {
    label: "RedisLock (fair: false, Pub/Sub race)",
    create: (client, name) => new RedisLock(client, name, { fair: false }),
    acquire: (lock, signal) => lock.acquire({ signal }),
  },
  {
    label: `RedisSpinLock (sleepTime ${SPIN_SLEEP_MS} ms)`,
    create: (client, name) => new RedisSpinLock(client, name),
    acquire: (lock, signal) =>
      (lock as RedisSpinLock).acquire({ signal, sleepTime: SPIN_SLEEP_MS }),
  },
];

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function connect(url: string) {
  const client = createClient({ url });
  client.on("error", () => {});
  await client.connect();
  return client;
}

async function runMode(url: string, mode: Mode, name: string): Promise<void> {
  const clients = await Promise.all(Array.from({ length: WORKERS }, () => connect(url)));
  const counts: number[] = new Array(WORKERS).fill(0);
  const handoffs: number[] = [];
  let inside = 0;
  let overlaps = 0;
  let lastRelease: { worker: number; at: number } | undefined;
  const stop = new AbortController();

  const worker = async (id: number) => {
    const lock = mode.create(clients[id], name);
    while (!stop.signal.aborted) {
      try {
        if (!(await mode.acquire(lock, stop.signal))) continue;
      } catch (err) {
        if (stop.signal.aborted) break; // aborted while waiting: the run is over
        throw err;
      }
      const acquiredAt = performance.now();
      if (lastRelease && lastRelease.worker !== id) handoffs.push(acquiredAt - lastRelease.at);
      if (++inside > 1) overlaps++;
      counts[id]++;
      await delay(CRITICAL_MS);
      if (inside !== 1) overlaps++;
      inside--;
      lastRelease = { worker: id, at: performance.now() };
      await lock.release();
    }
  };

  const timer = setTimeout(() => stop.abort(), SECONDS * 1000);
  try {
    await Promise.all(clients.map((_, id) => worker(id)));
  } finally {
    clearTimeout(timer);
    stop.abort();
    await Promise.allSettled(clients.map((client) => client.close()));
  }

  handoffs.sort((a, b) => a - b);
  const total = counts.reduce((a, b) => a + b, 0);
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  console.log(`\n== ${mode.label}: ${WORKERS} workers, ${SECONDS} s ==`);
  console.log(`acquisitions: ${total} (${(total / SECONDS).toFixed(0)}/s)`);
  console.log(`per worker:   ${counts.join(", ")}`);
  console.log(
    `overlaps:     ${overlaps}${overlaps === 0 ? " (ok)" : "  <-- MUTUAL EXCLUSION VIOLATED"}`,
  );
  console.log(
    `hand-off:     p50 ${ms(percentile(handoffs, 50))}, p99 ${ms(percentile(handoffs, 99))}, ` +
      `max ${ms(handoffs.at(-1) ?? NaN)} (${handoffs.length} hand-offs)`,
  );
  if (overlaps > 0) Deno.exitCode = 1;
}

async function main(): Promise<void> {
  let server: RedisServer | undefined;
  let url = Deno.env.get("REDIS_URL");
  if (!url) {
    if (spawnSync("redis-server", ["--version"]).error) {
      console.error(
        "redis-server was not found on PATH. Install it (e.g. `apt-get install redis-server` " +
          "or `brew install redis`), or point REDIS_URL at a Redis server you may use.",
      );
      Deno.exit(1);
    }
    server = await startRedis();
    url = server.url;
  }
  console.log(`Redis: ${url}${server ? " (throwaway redis-server)" : ""}`);
  const suffix = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    for (const [i, mode] of MODES.entries()) await runMode(url, mode, `demo:${suffix}:${i}`);
  } finally {
    await server?.stop();
  }
}

await main();
