/**
 * The results of `main.ts` and their Markdown tables: one per scenario
 * (in one process, or one contender per process) and hold time, every row
 * with its ratios to the hand-off floor on the same client.
 *
 * @module
 */

import { FLOOR_IDS, type LockSpec } from "./locks.ts";
import type { ClientKind } from "./clients.ts";
import type { CommandOrigins } from "./requests.ts";
import type { RunMetrics } from "./stats.ts";
import type { UncontendedResult } from "./uncontended.ts";

/** One run's numbers and what it was. */
export interface RunResult extends RunMetrics {
  readonly lock: string;
  readonly label: string;
  readonly client: ClientKind;
  /** Contenders in all. */
  readonly contenders: number;
  readonly holdMs: number;
  /** 1: every contender in this process; more: one contender per worker process. */
  readonly processes: number;
  /** Client requests to Redis during the window (see `requests.ts`). */
  readonly requests: number;
  readonly requestsPerAcq: number;
  /** True when some calls could not be split into client requests and script calls. */
  readonly requestsApprox: boolean;
  /** Every command Redis ran per acquisition, those inside scripts included (server work). */
  readonly commandsPerAcq: number;
  /** Redis CPU time (`used_cpu_sys + used_cpu_user`) per acquisition, µs. */
  readonly redisCpuPerAcq: number;
  /** Client CPU time, all processes of the run, per acquisition, µs. */
  readonly clientCpuPerAcq: number;
  /** `commandstats` calls during the window, script-run calls included. */
  readonly commands: Record<string, number>;
  /** How many rounds this row is the median of (see `rounds.ts`). */
  readonly rounds: number;
}

/** Sequential PING round trips on one connection. */
export interface Ping {
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Where and how the comparison ran. */
export interface Facts {
  readonly date: string;
  readonly nproc: number;
  readonly cpu: string;
  readonly redis: string;
  readonly deno: string;
  readonly seconds: number;
  /** Rounds per cell (`--rounds`); every figure is the median round. */
  readonly rounds: number;
  readonly wallSeconds: number;
  /** `/proc/loadavg`'s 1, 5 and 15 minute load averages at the start and the end. */
  readonly loadAverage: { readonly start: string; readonly end: string };
  /** How `total_commands_processed` grew for one EVAL running SET and GET. */
  readonly scriptGrowth: number;
  /** Redis CPU µs per second with no client at work (its own timers). */
  readonly idleRedisCpuPerSec: number;
}

/** What the report says about a lock (a {@linkcode LockSpec} without its `open`). */
export type LockInfo = Omit<LockSpec, "open">;

/** Everything a results file holds. */
export interface Outcome {
  readonly facts: Facts;
  readonly ping: Ping;
  readonly locks: readonly LockInfo[];
  readonly multiIds: readonly string[];
  readonly results: readonly RunResult[];
  readonly uncontended: readonly UncontendedResult[];
  readonly origins: ReadonlyMap<string, CommandOrigins>;
  readonly scriptOnly: ReadonlySet<string>;
}

/** Milliseconds with 2, 1 or 0 decimals by size; "–" when there is no value. */
export function ms(v: number): string {
  if (!Number.isFinite(v)) return "–";
  return v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0);
}

/** A rate or a µs figure, rounded; "–" when there is no value. */
export const whole = (v: number): string => Number.isFinite(v) ? Math.round(v).toString() : "–";
/** `a / b` as "0.93×"; "–" when either is missing. */
export const ratio = (a: number, b: number): string =>
  Number.isFinite(a / b) && b > 0 ? `${(a / b).toFixed(2)}×` : "–";
const reqs = (r: RunResult) =>
  Number.isFinite(r.requestsPerAcq)
    ? `${r.requestsApprox ? "≤" : ""}${r.requestsPerAcq.toFixed(2)}`
    : "–";
const one = (v: number) => Number.isFinite(v) ? v.toFixed(1) : "–";
const failures = (r: RunResult) => `${r.failed}${r.errors ? ` (+${r.errors} errors)` : ""}`;
const overlaps = (r: RunResult) => `${r.overlaps + r.intervalOverlaps}`;

/** A Markdown table. */
export function table(head: readonly string[], rows: readonly string[][]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** The floor's run in the same cell as `r`, on the same client. */
export function floorOf(results: readonly RunResult[], r: RunResult): RunResult | undefined {
  return results.find((f) =>
    f.lock === FLOOR_IDS[r.client] && f.contenders === r.contenders &&
    f.processes === r.processes && f.holdMs === r.holdMs
  );
}

/** Whether a run is of the multi-process scenario. */
export const multi = (r: RunResult): boolean => r.processes > 1;

/** The table of one scenario and hold time, rows by contenders then lock. */
export function scenarioTable(
  results: readonly RunResult[],
  processes: boolean,
  holdMs: number,
): string {
  const runs = results.filter((r) => multi(r) === processes && r.holdMs === holdMs);
  return table(
    [
      "Lock",
      "client",
      processes ? "processes" : "N",
      "acq/s",
      "× floor",
      "wait p50 ms",
      "wait p99 ms",
      "× floor",
      "wait max ms",
      "share",
      "acq min–max",
      "req/acq",
      "Redis ops/acq",
      "Redis CPU µs/acq",
      "× floor",
      "client CPU µs/acq",
      "× floor",
      "failed",
      "overlaps",
    ],
    [...runs].sort((a, b) => a.contenders - b.contenders).map((r) => {
      const f = floorOf(results, r);
      return [
        r.label,
        r.client,
        `${r.contenders}`,
        whole(r.acqPerSec),
        ratio(r.acqPerSec, f?.acqPerSec ?? NaN),
        ms(r.waitP50),
        ms(r.waitP99),
        ratio(r.waitP99, f?.waitP99 ?? NaN),
        ms(r.waitMax),
        Number.isFinite(r.shareMin) ? r.shareMin.toFixed(2) : "–",
        `${r.fairMin}–${r.fairMax}`,
        reqs(r),
        one(r.commandsPerAcq),
        whole(r.redisCpuPerAcq),
        ratio(r.redisCpuPerAcq, f?.redisCpuPerAcq ?? NaN),
        whole(r.clientCpuPerAcq),
        ratio(r.clientCpuPerAcq, f?.clientCpuPerAcq ?? NaN),
        failures(r),
        overlaps(r),
      ];
    }),
  );
}

/** The locks and the options they ran with. */
export function locksTable(locks: readonly LockInfo[], multiIds: readonly string[]): string {
  return table(
    ["Lock", "Client", "Settings", "multi-process runs"],
    locks.map((s) => [
      s.label,
      s.client,
      `\`${s.settings}\``,
      multiIds.includes(s.id) ? "yes" : "no",
    ]),
  );
}
