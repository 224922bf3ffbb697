/**
 * The read-mostly bench: 15 readers and 1 writer (3 processes of 5 readers,
 * 1 process with the writer, so hand-offs cross processes), 1 ms holds, on
 * a throwaway redis-server, for `RedisReadWriteLock` and, as the baseline in
 * the same run, a plain `RedisLock` taken by all 16 (readers then exclude
 * each other). Printed against the ideal bound: with the writer always
 * waiting, the best a fair read-write lock can do is alternate one read
 * phase (every reader together) with one write, each `hold` long, so
 * read throughput ≤ readers / (2 × hold) and a write waits at most one read
 * phase (`hold`); "with RTT" adds one measured round trip to each phase.
 * The "timer floor" row runs that ideal schedule in this process with no
 * Redis at all (16 holders' `setTimeout(hold)`s, phases back to back), so
 * it shows what this runtime's 1 ms timers allow on this machine; "of
 * floor" is each lock's reads/s against it.
 * Requests per acquisition: the lock's commands Redis counted (scripts and
 * subscriptions) over all acquisitions.
 *
 * Run: deno run -A bench/rwlock.ts [duration-ms=5000] [hold-ms=1]
 */

import process from "node:process";
import { startRedis } from "../tests/harness/redis.ts";
import { startChild } from "../tests/harness/process.ts";

const DURATION = Number(process.argv[2] ?? 5_000);
const HOLD = Number(process.argv[3] ?? 1);
const READER_PROCESSES = 3;
const READERS_EACH = 5;
const READERS = READER_PROCESSES * READERS_EACH;
const COUNTED = ["evalsha", "eval", "subscribe", "unsubscribe", "ssubscribe", "sunsubscribe"];

interface Result {
  readonly reads: number;
  readonly writes: number;
  readonly waits: number[];
}

const server = await startRedis();

async function counted(): Promise<number> {
  const stats = String(await server.command("INFO", "commandstats"));
  let n = 0;
  for (const c of COUNTED) {
    n += Number(stats.match(new RegExp(`cmdstat_${c}:calls=(\\d+)`))?.[1] ?? 0);
  }
  return n;
}

async function rtt(): Promise<number> {
  const { createClient } = await import("redis");
  const client = await createClient({ url: server.url }).connect();
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await client.ping();
    times.push(performance.now() - t);
  }
  await client.close();
  return times.sort((a, b) => a - b)[100];
}

async function scenario(kind: "rw" | "mutex"): Promise<Result & { requests: number }> {
  await server.command("DEL", "bench:go");
  const args = (
    readers: number,
    writers: number,
  ) => [server.url, kind, `${readers}`, `${writers}`, `${DURATION}`, `${HOLD}`];
  const children = [
    ...Array.from(
      { length: READER_PROCESSES },
      () => startChild("../bench/rwlock_worker.ts", args(READERS_EACH, 0)),
    ),
    startChild("../bench/rwlock_worker.ts", args(0, 1)),
  ];
  await Promise.all(children.map((c) => c.waitFor("ready")));
  const before = await counted();
  await server.command("SET", "bench:go", "1");
  const codes = await Promise.all(children.map((c) => c.exited));
  if (codes.some((c) => c !== 0)) throw new Error(`a worker failed: ${codes}`);
  const requests = await counted() - before;
  const results = children.map((c) => JSON.parse(c.output().trim().split("\n").at(-1)!) as Result);
  return {
    reads: results.reduce((n, r) => n + r.reads, 0),
    writes: results.reduce((n, r) => n + r.writes, 0),
    waits: results.flatMap((r) => r.waits),
    requests,
  };
}

/** The ideal schedule on this runtime's timers, with no lock and no Redis. */
async function timerFloor(): Promise<Result> {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const end = performance.now() + DURATION;
  const waits: number[] = [];
  let reads = 0;
  while (performance.now() < end) {
    const called = performance.now(); // the writer comes as a read phase starts
    await Promise.all(Array.from({ length: READERS }, () => sleep(HOLD)));
    reads += READERS;
    waits.push(performance.now() - called);
    await sleep(HOLD); // the write
  }
  return { reads, writes: waits.length, waits };
}

function percentile(values: number[], p: number): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

try {
  const roundTrip = await rtt();
  const seconds = DURATION / 1_000;
  const ideal = READERS / (2 * HOLD / 1_000);
  const idealRtt = READERS / (2 * (HOLD + roundTrip) / 1_000);
  const floor = await timerFloor();
  const rows = [];
  const labels = {
    floor: "timer floor (no Redis)",
    rw: "RedisReadWriteLock",
    mutex: "RedisLock (baseline)",
  };
  for (const kind of ["floor", "rw", "mutex"] as const) {
    const r = kind === "floor" ? { ...floor, requests: NaN } : await scenario(kind);
    rows.push({
      lock: labels[kind],
      "reads/s": Math.round(r.reads / seconds),
      "of ideal": `${(100 * r.reads / seconds / ideal).toFixed(1)} %`,
      "of ideal with RTT": `${(100 * r.reads / seconds / idealRtt).toFixed(1)} %`,
      "of floor": `${(100 * r.reads / floor.reads).toFixed(1)} %`,
      "writes/s": Math.round(r.writes / seconds),
      "write wait p50 ms": percentile(r.waits, 0.5).toFixed(2),
      "write wait p99 ms": percentile(r.waits, 0.99).toFixed(2),
      "requests/acq": Number.isNaN(r.requests)
        ? "–"
        : (r.requests / (r.reads + r.writes)).toFixed(2),
    });
  }
  console.log(
    `${READERS} readers (${READER_PROCESSES} processes) + 1 writer (1 process), ${HOLD} ms holds, ${DURATION} ms`,
  );
  console.log(
    `ideal: ${Math.round(ideal)} reads/s, write wait ≤ ${HOLD} ms; with RTT (${
      roundTrip.toFixed(3)
    } ms): ${Math.round(idealRtt)} reads/s`,
  );
  console.table(rows);
} finally {
  await server.stop();
}
