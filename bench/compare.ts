/**
 * Compares this package's locks with node-redlock, redis-semaphore and
 * redlock-universal under contention, against one throwaway redis-server.
 *
 * For every lock: 1, 8 and 32 contenders (each its own connection and lock
 * instance) loop acquire → hold 0 or 1 ms → release on one name for a fixed
 * time; then 32 contenders with a 0 ms hold split over 2 processes. Per run:
 * acquisitions/s, wait and hand-off percentiles, per-contender counts, Redis
 * requests per acquisition and exclusion checks. The floor is sequential
 * PING round trips on one connection.
 *
 * Writes bench/results/compare.{md,json,svg} and prints the tables.
 *
 * Run:  deno run -A bench/compare.ts [--seconds 3] [--only <regexp on lock ids>]
 *       (COMPARE_SECONDS=1 works too)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { LOCKS, type LockSpec } from "./_compare_locks.ts";
import { runTwoProcesses } from "./_compare_multi.ts";
import {
  loadAverage,
  machineFacts,
  notesOf,
  printTables,
  writeOutputs,
} from "./_compare_output.ts";
import { pingFloor } from "./_compare_floor.ts";
import type { Facts, RunResult } from "./_compare_report.ts";
import {
  clientRequests,
  type CommandCounts,
  type CommandOrigins,
  learnOrigins,
  scriptCommandGrowth,
  serverCommands,
  StatsReader,
} from "./_compare_requests.ts";
import {
  clock,
  closeContenders,
  openContenders,
  type RawRun,
  runWindow,
  warmUp,
} from "./_compare_run.ts";
import { summarise } from "./_compare_stats.ts";
import { startRedis } from "../tests/harness/redis.ts";

const CONTENDERS = [1, 8, 32];
const HOLDS_MS = [0, 1];
const RESULTS = new URL("./results/", import.meta.url);
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const { values: args } = parseArgs({
  args: Deno.args,
  options: { seconds: { type: "string" }, only: { type: "string" } },
});
const SECONDS = Number(args.seconds ?? Deno.env.get("COMPARE_SECONDS") ?? 3);
if (!(SECONDS > 0)) {
  throw new RangeError(`--seconds must be a positive number, got ${args.seconds}`);
}
const locks = LOCKS.filter((s) => !args.only || new RegExp(args.only).test(s.id));

/** What every run needs. */
interface Context {
  readonly url: string;
  readonly reader: StatsReader;
  readonly scriptsCounted: boolean;
  readonly origins: Map<string, CommandOrigins>;
  readonly scriptOnly: ReadonlySet<string>;
  readonly prefix: string;
}

/** A short run under MONITOR: which commands the lock sends, which its scripts run. */
async function calibrate(spec: LockSpec, port: number, url: string): Promise<CommandOrigins> {
  return await learnOrigins(port, async () => {
    const contenders = await openContenders(spec, url, `compare:calibrate:${spec.id}`, 4);
    try {
      await warmUp(contenders);
      await runWindow(contenders, 1, clock(), 0.5);
    } finally {
      await closeContenders(contenders);
    }
  });
}

async function readAt(reader: StatsReader, at: number): Promise<CommandCounts> {
  await delay(at - clock());
  return await reader.read();
}

async function measure(
  ctx: Context,
  spec: LockSpec,
  contenders: number,
  holdMs: number,
  processes: 1 | 2,
): Promise<RunResult> {
  const name = `${ctx.prefix}:${spec.id}:${contenders}:${holdMs}:${processes}`;
  const hooks = {
    beforeStart: async () => {
      await delay(20); // let the warm-up's last UNSUBSCRIBEs land before the reset
      await ctx.reader.reset();
    },
    duringWindow: (end: number) => readAt(ctx.reader, end),
  };
  let raws: RawRun[];
  let counts: CommandCounts;
  if (processes === 2) {
    const out = await runTwoProcesses(spec, ctx.url, name, contenders, holdMs, SECONDS, hooks);
    [raws, counts] = [out.runs, out.atEnd];
  } else {
    const own = await openContenders(spec, ctx.url, name, contenders);
    try {
      await warmUp(own);
      await hooks.beforeStart();
      const startAt = clock() + 20;
      const [raw, atEnd] = await Promise.all([
        runWindow(own, holdMs, startAt, SECONDS),
        hooks.duringWindow(startAt + SECONDS * 1000),
      ]);
      [raws, counts] = [[raw], atEnd];
    } finally {
      await closeContenders(own);
    }
  }
  const metrics = summarise(raws);
  const origins = ctx.origins.get(spec.id)!;
  const { requests, approx } = clientRequests(counts, ctx.scriptsCounted, origins, ctx.scriptOnly);
  return {
    lock: spec.id,
    label: spec.label,
    contenders,
    holdMs,
    processes,
    ...metrics,
    requests,
    requestsPerAcq: requests / metrics.acquisitions,
    requestsApprox: approx,
    commandsPerAcq: serverCommands(counts) / metrics.acquisitions,
    commands: counts.byCommand,
  };
}

async function main(): Promise<void> {
  const wallStart = clock();
  const loadStart = await loadAverage();
  const server = await startRedis();
  const reader = await StatsReader.open(server.url);
  try {
    const growth = await scriptCommandGrowth(reader);
    console.log(`total_commands_processed grows by ${growth} for an EVAL running SET and GET`);
    const floor = await pingFloor(server.url, SECONDS);
    console.log(`floor: ${Math.round(floor.opsPerSec)} PING/s`);
    const origins = new Map<string, CommandOrigins>();
    for (const spec of locks) origins.set(spec.id, await calibrate(spec, server.port, server.url));
    const sent = new Set([...origins.values()].flatMap((o) => o.client));
    const scriptOnly = new Set(
      [...origins.values()].flatMap((o) => o.script).filter((n) => !sent.has(n)),
    );
    const prefix = `compare:${Date.now().toString(36)}`;
    const ctx: Context = {
      url: server.url,
      reader,
      scriptsCounted: growth > 1,
      origins,
      scriptOnly,
      prefix,
    };

    const results: RunResult[] = [];
    const plan: ReadonlyArray<readonly [LockSpec, number, number, 1 | 2]> = [
      ...HOLDS_MS.flatMap((h) =>
        CONTENDERS.flatMap((n) => locks.map((s) => [s, n, h, 1] as const))
      ),
      ...locks.map((s) => [s, 32, 0, 2] as const),
    ];
    const crashed: string[] = [];
    for (const [spec, n, hold, procs] of plan) {
      let r: RunResult;
      try {
        r = await measure(ctx, spec, n, hold, procs);
      } catch (err) {
        // A lock that cannot run at all is reported, not allowed to stop the others.
        crashed.push(`${spec.label}, N=${n}, hold ${hold} ms, ${procs} proc: run failed: ${err}`);
        console.error(crashed.at(-1));
        continue;
      }
      results.push(r);
      console.log(
        `${r.label.padEnd(34)} N=${String(n).padStart(2)} hold ${hold} ms ${procs} proc: ` +
          `${Math.round(r.acqPerSec)} acq/s, wait p99 ${
            r.waitP99.toFixed(2)
          } ms, failed ${r.failed}`,
      );
    }

    const facts: Facts = {
      ...await machineFacts(await reader.info("server")),
      seconds: SECONDS,
      wallSeconds: (clock() - wallStart) / 1000,
      loadAverage: { start: loadStart, end: await loadAverage() },
      scriptGrowth: growth,
    };
    const outcome = {
      facts,
      floor,
      locks,
      contenders: CONTENDERS,
      holds: HOLDS_MS,
      results,
      origins,
      scriptOnly,
    };
    const notes = [...notesOf(results, growth), ...crashed];
    printTables(outcome, notes);
    await writeOutputs(RESULTS, outcome, notes);
    console.log(
      `\nwrote bench/results/compare.{md,json,svg}; wall time ${facts.wallSeconds.toFixed(1)} s`,
    );
    if (results.some((r) => r.overlaps + r.intervalOverlaps > 0)) Deno.exitCode = 1;
  } finally {
    await reader.close();
    await server.stop();
  }
}

await main();
