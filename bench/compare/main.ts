/**
 * Compares this package's locks with the ideal hand-off floor and with
 * node-redlock, redis-semaphore and redlock-universal under contention,
 * against one throwaway redis-server (issue 16's benchmark).
 *
 * Scenarios, each with a 0 and a 1 ms hold:
 * - N contenders in this process (N = 1, 8, 32), each its own connection
 *   and lock instance, loop acquire → hold → release on one name;
 * - one contender in each of 4, 8 and 16 worker processes, on one name
 *   (the floor, our locks, and the peers' tuned variants);
 * - uncontended: `RedisLock` acquire + release against a raw `SET NX PX` +
 *   `EVALSHA` delete, on node-redis and on ioredis;
 * - semaphore (issue 17, `semaphores.ts`): `RedisSemaphore` against
 *   redis-semaphore's `Semaphore` and the ideal bound, limit 4, 16
 *   contenders in one process and across 16 processes, 1 ms hold; written
 *   to bench/results/semaphore.{md,json}.
 *
 * Per row: acquisitions/s, wait percentiles, each contender's share, client
 * requests, Redis operations and Redis CPU per acquisition (from `INFO`),
 * client CPU per acquisition (`process.cpuUsage()`), exclusion checks, and
 * the ratios to the floor on the same client; then issue 16's "Done when"
 * criteria judged on the run (see `criteria.ts`).
 *
 * Writes bench/results/compare.{md,json,svg} and prints the tables.
 *
 * Run:  deno task bench:compare [--seconds 1] [--rounds 1] [--warmup 1] [--only <regexp on lock ids>]
 *         [--parts uncontended,in-process,multi-process,semaphore]
 *       (COMPARE_SECONDS=1 works too). `--seconds` is the window of one run;
 *       `--rounds R` runs every cell R times and reports the median round
 *       (`rounds.ts`); `--warmup W`: every run starts with W seconds of
 *       contention that are not measured (`measure.ts`). On a 2-core machine the defaults take about 4
 *       minutes, `--seconds 3` about 8, `--seconds 3 --rounds 3` about 22.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { ClientKind } from "./clients.ts";
import { LOCKS, type LockSpec, MULTI_PROCESS_IDS } from "./locks.ts";
import { calibrate, type Context, measure } from "./measure.ts";
import { WorkerPool } from "./processes.ts";
import { loadAverage, machineFacts, notesOf, printTables, writeOutputs } from "./output.ts";
import { pingFloor } from "./ping.ts";
import { combine } from "./rounds.ts";
import type { Facts, RunResult } from "./report.ts";
import { type CommandOrigins, scriptCommandGrowth, since, StatsReader } from "./requests.ts";
import { clock } from "./run.ts";
import { uncontended, type UncontendedResult } from "./uncontended.ts";
import { semaphorePart, semaphoreTable } from "./semaphores.ts";
import { startRedis } from "../../tests/harness/redis.ts";

const CONTENDERS = [1, 8, 32];
const PROCESSES = [4, 8, 16];
const HOLDS_MS = [0, 1];
const CLIENTS: readonly ClientKind[] = ["node-redis", "ioredis"];
const PARTS = ["uncontended", "in-process", "multi-process", "semaphore"];
const LOCK_PARTS = PARTS.filter((p) => p !== "semaphore");
const RESULTS = new URL("../results/", import.meta.url);
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string" },
    only: { type: "string" },
    parts: { type: "string" },
    rounds: { type: "string" },
    warmup: { type: "string" },
  },
});
const SECONDS = Number(args.seconds ?? Deno.env.get("COMPARE_SECONDS") ?? 1);
if (!(SECONDS > 0)) {
  throw new RangeError(`--seconds must be a positive number, got ${args.seconds}`);
}
const ROUNDS = Number(args.rounds ?? 1);
if (!(Number.isInteger(ROUNDS) && ROUNDS > 0)) {
  throw new RangeError(`--rounds must be a positive integer, got ${args.rounds}`);
}
const WARMUP = Number(args.warmup ?? 1);
if (!(WARMUP >= 0)) throw new RangeError(`--warmup must be a number ≥ 0, got ${args.warmup}`);
const parts = new Set(args.parts?.split(",") ?? PARTS);
for (const part of parts) {
  if (!PARTS.includes(part)) throw new RangeError(`--parts: unknown part ${part}`);
}
const locks = LOCKS.filter((s) => !args.only || new RegExp(args.only).test(s.id));

/** One cell: these locks with `contenders` in all, a hold, in 1 or `processes` processes. */
interface Cell {
  readonly locks: readonly LockSpec[];
  readonly contenders: number;
  readonly holdMs: number;
  readonly processes: number;
}

/** The cells to run, in order. */
function plan(): Cell[] {
  const cells: Cell[] = [];
  if (parts.has("in-process")) {
    for (const holdMs of HOLDS_MS) {
      for (const n of CONTENDERS) cells.push({ locks, contenders: n, holdMs, processes: 1 });
    }
  }
  if (parts.has("multi-process")) {
    const many = locks.filter((s) => MULTI_PROCESS_IDS.includes(s.id));
    for (const holdMs of HOLDS_MS) {
      for (const p of PROCESSES) cells.push({ locks: many, contenders: p, holdMs, processes: p });
    }
  }
  return cells;
}

/**
 * Runs one cell: every round runs the cell's locks one after another (the
 * order reversed every other round); one row per lock, the median round.
 */
async function runCell(ctx: Context, cell: Cell, crashed: string[]): Promise<RunResult[]> {
  const rounds = new Map<string, RunResult[]>(cell.locks.map((s) => [s.id, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? cell.locks : [...cell.locks].reverse();
    for (const spec of order) {
      const { contenders: n, holdMs, processes } = cell;
      const where = `${spec.label} [${spec.client}], N=${n}, hold ${holdMs} ms, ${processes} proc`;
      let r: RunResult;
      try {
        r = await measure(ctx, spec, n, holdMs, processes, SECONDS);
      } catch (err) {
        // A lock that cannot run at all is reported, not allowed to stop the others.
        crashed.push(`${where}, round ${round + 1}: run failed: ${err}`);
        console.error(crashed.at(-1));
        continue;
      }
      rounds.get(spec.id)!.push(r);
      console.log(
        `${where.padEnd(62)} ${Math.round(r.acqPerSec)} acq/s, p99 ${r.waitP99.toFixed(2)} ms, ` +
          `Redis ${Math.round(r.redisCpuPerAcq)} µs/acq, client ${
            Math.round(r.clientCpuPerAcq)
          } µs/acq, ${r.requestsPerAcq.toFixed(2)} req/acq, failed ${r.failed}`,
      );
    }
  }
  return cell.locks.flatMap((s) => {
    const runs = rounds.get(s.id)!;
    return runs.length > 0 ? [combine(runs)] : [];
  });
}

/** The semaphore part: its own table, printed and written to bench/results/semaphore.*. */
async function runSemaphores(ctx: Context): Promise<void> {
  const rows = await semaphorePart(ctx, SECONDS, ROUNDS, (r) =>
    console.log(
      `${r.label} [${r.client}], ${r.processes} proc`.padEnd(62) +
        ` ${Math.round(r.acqPerSec)} acq/s, p99 ${r.waitP99.toFixed(2)} ms, ` +
        `${r.requestsPerAcq.toFixed(2)} req/acq, over limit ${r.overlaps + r.intervalOverlaps}`,
    ));
  const table = semaphoreTable(rows);
  console.log(`\n${table}`);
  const md = new URL("semaphore.md", RESULTS);
  await Deno.writeTextFile(md, `# Semaphore comparison\n\n${table}`);
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", md.pathname] }).output();
  const json = JSON.stringify(
    { seconds: SECONDS, rounds: ROUNDS, date: new Date().toISOString(), rows },
    null,
    2,
  );
  await Deno.writeTextFile(new URL("semaphore.json", RESULTS), json + "\n");
  if (rows.some((r) => r.overlaps + r.intervalOverlaps > 0)) Deno.exitCode = 1;
}

async function main(): Promise<void> {
  const wallStart = clock();
  const loadStart = await loadAverage();
  const server = await startRedis();
  const reader = await StatsReader.open(server.url);
  const pool = new WorkerPool();
  try {
    const growth = await scriptCommandGrowth(reader);
    console.log(`total_commands_processed grows by ${growth} for an EVAL running SET and GET`);
    const idleFrom = await reader.read();
    await delay(1000);
    const idle = since(idleFrom, await reader.read());
    const ping = await pingFloor(server.url, Math.min(SECONDS, 1));
    console.log(`ping: ${Math.round(ping.opsPerSec)} PING/s; Redis idle: ${idle.cpuSeconds} s/s`);

    const flat: UncontendedResult[] = [];
    if (parts.has("uncontended")) {
      for (const kind of CLIENTS) {
        const u = await uncontended(kind, server.url, reader, SECONDS);
        flat.push(u);
        console.log(
          `uncontended ${kind}: raw ${u.raw.micros.toFixed(0)} µs, RedisLock ` +
            `${u.lock.micros.toFixed(0)} µs per pair (${u.ratio.toFixed(2)}×)`,
        );
      }
    }

    const origins = new Map<string, CommandOrigins>();
    const lockParts = LOCK_PARTS.some((p) => parts.has(p));
    if (lockParts) {
      for (const spec of locks) {
        const across = MULTI_PROCESS_IDS.includes(spec.id) && parts.has("multi-process");
        origins.set(
          spec.id,
          await calibrate(spec, server.port, server.url, across ? pool : undefined),
        );
      }
    }
    const sent = new Set([...origins.values()].flatMap((o) => o.client));
    const scriptOnly = new Set(
      [...origins.values()].flatMap((o) => o.script).filter((n) => !sent.has(n)),
    );
    const ctx: Context = {
      url: server.url,
      reader,
      pool,
      scriptsCounted: growth > 1,
      origins,
      scriptOnly,
      prefix: `compare:${Date.now().toString(36)}`,
      warmup: WARMUP,
    };

    const results: RunResult[] = [];
    const crashed: string[] = [];
    for (const cell of plan()) results.push(...await runCell(ctx, cell, crashed));
    if (parts.has("semaphore")) await runSemaphores(ctx);
    if (!lockParts) return;

    const facts: Facts = {
      ...await machineFacts(await reader.info("server")),
      seconds: SECONDS,
      rounds: ROUNDS,
      wallSeconds: (clock() - wallStart) / 1000,
      loadAverage: { start: loadStart, end: await loadAverage() },
      scriptGrowth: growth,
      idleRedisCpuPerSec: idle.cpuSeconds * 1e6,
    };
    const outcome = {
      facts,
      ping,
      locks,
      multiIds: MULTI_PROCESS_IDS,
      results,
      uncontended: flat,
      origins,
      scriptOnly,
    };
    const notes = [...notesOf(results, growth), ...crashed];
    printTables(outcome, notes);
    await writeOutputs(RESULTS, outcome, notes);
    console.log(
      `\nwrote bench/results/compare.{md,json,svg}; wall time ${facts.wallSeconds.toFixed(1)} s; ` +
        `load average ${facts.loadAverage.start} at the start, ${facts.loadAverage.end} at the end`,
    );
    if (results.some((r) => r.overlaps + r.intervalOverlaps > 0)) Deno.exitCode = 1;
  } finally {
    await pool.close();
    await reader.close();
    await server.stop();
  }
}

await main();
