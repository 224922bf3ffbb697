/**
 * The semaphore scenario of the comparison (issue 17): `RedisSemaphore`
 * against redis-semaphore's `Semaphore` and the ideal bound, limit 4, 16
 * contenders (in this process, and one in each of 16 worker processes),
 * 1 ms hold. The ideal bound is limit ÷ hold: 4 permits each turned over
 * every 1 ms, with no time spent in Redis at all and timers that fire on
 * time; the floor is what a bare Lua queue with `BLPOP` reaches on this
 * machine and runtime, so "× floor" is the part a client can still gain.
 *
 * Per row: acquisitions/s and their ratio to the bound, p99 wait, the
 * min–max acquisitions per contender, client requests per acquisition, and
 * the over-limit checks (in-process counter and the intervals of every
 * acquisition, which all processes stamp on one clock).
 *
 * @module
 */

import { Semaphore } from "redis-semaphore";
import { RedisSemaphore } from "../../mod.ts";
import { ioRedis, nodeRedis } from "./clients.ts";
import { semaphoreFloor } from "./floor.ts";
import type { LockSpec } from "./locks.ts";
import { calibrate, type Context, measure } from "./measure.ts";
import { TUNED_DELAY_MS } from "./peers.ts";
import type { RunResult } from "./report.ts";
import { combine } from "./rounds.ts";

/** The scenario: limit, contenders (and processes), hold. */
export const SEM_LIMIT = 4;
export const SEM_CONTENDERS = 16;
export const SEM_HOLD_MS = 1;
/** The ideal bound in acquisitions/s: every permit turned over every hold. */
export const SEM_IDEAL = SEM_LIMIT * 1000 / SEM_HOLD_MS;

function ours(id: string, client: "node-redis" | "ioredis"): LockSpec {
  return {
    id,
    label: "RedisSemaphore (fair, default)",
    client,
    settings: `new RedisSemaphore(client, name, { limit: ${SEM_LIMIT} })`,
    async open(url, name) {
      const [conn, close] = client === "node-redis"
        ? await nodeRedis(url).then((c) => [c, () => c.close()] as const)
        : await ioRedis(url).then((c) => [c, async () => void await c.quit()] as const);
      const sem = new RedisSemaphore(conn, name, { limit: SEM_LIMIT });
      return {
        acquire: (signal) => sem.acquire({ signal }),
        release: () => sem.release(),
        close,
      };
    },
  };
}

function peer(id: string, label: string, retryInterval?: number): LockSpec {
  const options = retryInterval === undefined ? {} : { retryInterval, acquireTimeout: 10_000 };
  return {
    id,
    label,
    client: "ioredis",
    settings: retryInterval === undefined
      ? `new Semaphore(client, name, ${SEM_LIMIT}): retryInterval 10, acquireTimeout 10000`
      : `new Semaphore(client, name, ${SEM_LIMIT}, ${JSON.stringify(options)})`,
    async open(url, name) {
      const client = await ioRedis(url);
      const semaphore = new Semaphore(client, name, SEM_LIMIT, options);
      return {
        acquire: (signal) => semaphore.tryAcquire(signal),
        release: () => semaphore.release(),
        close: async () => void await client.quit(),
      };
    },
  };
}

/** The semaphores measured, in report order. */
export const SEMAPHORES: readonly LockSpec[] = [
  semaphoreFloor("sem-floor", "node-redis", SEM_LIMIT),
  semaphoreFloor("sem-floor-io", "ioredis", SEM_LIMIT),
  ours("sem", "node-redis"),
  ours("sem-io", "ioredis"),
  peer("rs-semaphore", "redis-semaphore Semaphore defaults"),
  peer("rs-semaphore-5", "redis-semaphore Semaphore retryInterval 5", TUNED_DELAY_MS),
];

/**
 * Runs the scenario: every semaphore in one process, then across
 * processes; each cell `rounds` times (the order reversed every other
 * round), reported as its median round (`rounds.ts`).
 */
export async function semaphorePart(
  ctx: Context,
  seconds: number,
  rounds: number,
  onRow: (r: RunResult) => void,
): Promise<RunResult[]> {
  const port = Number(new URL(ctx.url).port);
  for (const spec of SEMAPHORES) {
    const origins = await calibrate(spec, port, ctx.url, undefined, SEM_CONTENDERS);
    // Calibration runs in one process, where our hand-offs are local: the
    // PUBLISH that a hand-off to another process costs runs in the release
    // script (the client never sends one).
    const script = spec.label.startsWith("RedisSemaphore") && !origins.client.includes("publish")
      ? [...new Set([...origins.script, "publish"])]
      : origins.script;
    ctx.origins.set(spec.id, { ...origins, script });
  }
  const results: RunResult[] = [];
  for (const processes of [1, SEM_CONTENDERS]) {
    const runs = new Map<string, RunResult[]>(SEMAPHORES.map((s) => [s.id, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? SEMAPHORES : SEMAPHORES.toReversed();
      for (const spec of order) {
        const r = await measure(
          ctx,
          spec,
          SEM_CONTENDERS,
          SEM_HOLD_MS,
          processes,
          seconds,
          SEM_LIMIT,
        );
        runs.get(spec.id)!.push(r);
        onRow(r);
      }
    }
    results.push(...SEMAPHORES.map((s) => combine(runs.get(s.id)!)));
  }
  return results;
}

const fmt = (n: number, digits = 0) => Number.isFinite(n) ? n.toFixed(digits) : "–";

/** The floor's row on the same client and in the same place as `r`. */
function floorOf(r: RunResult, results: readonly RunResult[]): RunResult | undefined {
  return results.find((f) =>
    f.lock.startsWith("sem-floor") && f.client === r.client && f.processes === r.processes
  );
}

/** The scenario's table, in Markdown. */
export function semaphoreTable(results: readonly RunResult[]): string {
  const head = [
    `Limit ${SEM_LIMIT}, ${SEM_CONTENDERS} contenders, ${SEM_HOLD_MS} ms hold; ideal bound ` +
    `(limit ÷ hold) ${SEM_IDEAL} acquisitions/s.`,
    "",
    "| semaphore | client | where | acq/s | × ideal | × floor | p99 wait ms | " +
    "min–max per contender | req/acq | failed | over limit |",
    "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    `| ideal bound (limit ÷ hold) | – | – | ${SEM_IDEAL} | 1.00 | – | – | – | – | – | – |`,
  ];
  const rows = results.map((r) =>
    `| ${r.label} | ${r.client} | ${
      r.processes > 1 ? `${r.processes} processes` : "1 process"
    } | ` +
    `${fmt(r.acqPerSec)} | ${fmt(r.acqPerSec / SEM_IDEAL, 2)} | ` +
    `${fmt(r.acqPerSec / (floorOf(r, results)?.acqPerSec ?? NaN), 2)} | ${fmt(r.waitP99, 1)} | ` +
    `${r.fairMin}–${r.fairMax} | ${fmt(r.requestsPerAcq, 2)} | ${r.failed} | ` +
    `${r.overlaps + r.intervalOverlaps} |`
  );
  return [...head, ...rows, ""].join("\n");
}
