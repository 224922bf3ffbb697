/**
 * One measured run: open the contenders (here or in worker processes),
 * warm them up, run the window while reading Redis's counters at its start
 * and end, and turn the records into a {@linkcode RunResult}.
 *
 * @module
 */

import type { LockSpec } from "./locks.ts";
import type { WorkerPool } from "./processes.ts";
import type { RunResult } from "./report.ts";
import {
  clientRequests,
  type CommandCounts,
  type CommandOrigins,
  learnOrigins,
  serverCommands,
  since,
  type StatsReader,
} from "./requests.ts";
import { clock, closeContenders, openContenders, type RawRun, runWindow, warmUp } from "./run.ts";
import { summarise } from "./stats.ts";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What every run needs. */
export interface Context {
  readonly url: string;
  readonly reader: StatsReader;
  readonly pool: WorkerPool;
  readonly scriptsCounted: boolean;
  readonly origins: Map<string, CommandOrigins>;
  readonly scriptOnly: ReadonlySet<string>;
  readonly prefix: string;
  /**
   * Seconds of contention each run starts with, not measured: the window
   * then sees each client's steady state (compiled code, connections open),
   * as a long-running service would, not its first few hundred calls.
   */
  readonly warmup: number;
}

/**
 * A short run under MONITOR: which commands the lock sends, which its
 * scripts run. `n` contenders: enough to contend (more than a semaphore's
 * limit). With `pool`, also two worker processes: a lock may run commands
 * only across processes (a `RedisLock` hand-off is published only to
 * another process).
 */
export async function calibrate(
  spec: LockSpec,
  port: number,
  url: string,
  pool?: WorkerPool,
  n = 4,
): Promise<CommandOrigins> {
  const name = `compare:calibrate:${spec.id}`;
  return await learnOrigins(port, async () => {
    const contenders = await openContenders(spec, url, name, n);
    try {
      await warmUp(contenders);
      await runWindow(contenders, 1, clock(), 0.5);
    } finally {
      await closeContenders(contenders);
    }
    await pool?.run(spec, url, name, 2, 0, 0.5, { duringWindow: async () => {} });
  });
}

/** Redis's counters between `startAt` and `endAt` ({@linkcode clock} times). */
async function windowCounts(
  reader: StatsReader,
  startAt: number,
  endAt: number,
): Promise<CommandCounts> {
  await delay(startAt - clock());
  const before = await reader.read();
  await delay(endAt - clock());
  return since(before, await reader.read());
}

/**
 * One run of `spec`: `contenders` in this process, or one in each of
 * `processes` workers; `limit` holders at once (a semaphore's; 1 for a lock).
 */
export async function measure(
  ctx: Context,
  spec: LockSpec,
  contenders: number,
  holdMs: number,
  processes: number,
  seconds: number,
  limit = 1,
): Promise<RunResult> {
  const name = `${ctx.prefix}:${spec.id}:${contenders}:${holdMs}:${processes}`;
  let raws: RawRun[];
  let counts: CommandCounts;
  if (processes > 1) {
    const out = await ctx.pool.run(
      spec,
      ctx.url,
      name,
      processes,
      holdMs,
      seconds,
      {
        duringWindow: (start, end) => windowCounts(ctx.reader, start, end),
      },
      limit,
      ctx.warmup,
    );
    [raws, counts] = [out.runs, out.atEnd];
  } else {
    const own = await openContenders(spec, ctx.url, name, contenders);
    try {
      await warmUp(own);
      if (ctx.warmup > 0) await runWindow(own, holdMs, clock(), ctx.warmup, limit);
      const startAt = clock() + 50;
      const [raw, atEnd] = await Promise.all([
        runWindow(own, holdMs, startAt, seconds, limit),
        windowCounts(ctx.reader, startAt, startAt + seconds * 1000),
      ]);
      [raws, counts] = [[raw], atEnd];
    } finally {
      await closeContenders(own);
    }
  }
  const metrics = summarise(raws, limit);
  const origins = ctx.origins.get(spec.id)!;
  const { requests, approx } = clientRequests(counts, ctx.scriptsCounted, origins, ctx.scriptOnly);
  const perAcq = (v: number) => v / metrics.acquisitions;
  return {
    lock: spec.id,
    label: spec.label,
    client: spec.client,
    contenders,
    holdMs,
    processes,
    ...metrics,
    requests,
    requestsPerAcq: perAcq(requests),
    requestsApprox: approx,
    commandsPerAcq: perAcq(serverCommands(counts)),
    redisCpuPerAcq: perAcq(counts.cpuSeconds * 1e6),
    clientCpuPerAcq: perAcq(metrics.clientCpuMicros),
    commands: counts.byCommand,
    rounds: 1,
  };
}
