/**
 * The results of `main.ts` and their Markdown: one table per hold time,
 * one for the 2-process runs, the locks' settings and the machine facts.
 *
 * @module
 */

import type { LockSpec } from "./locks.ts";
import type { RunMetrics } from "./stats.ts";

/** One run's numbers and what it was. */
export interface RunResult extends RunMetrics {
  readonly lock: string;
  readonly label: string;
  readonly contenders: number;
  readonly holdMs: number;
  readonly processes: number;
  /** Client requests to Redis during the window (see `requests.ts`). */
  readonly requests: number;
  readonly requestsPerAcq: number;
  /** True when some calls could not be split into client requests and script calls. */
  readonly requestsApprox: boolean;
  /** Every command Redis ran per acquisition, those inside scripts included (server work). */
  readonly commandsPerAcq: number;
  /** `commandstats` calls during the window, script-run calls included. */
  readonly commands: Record<string, number>;
}

/** Sequential PING round trips on one connection. */
export interface Floor {
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
  readonly wallSeconds: number;
  /** `/proc/loadavg`'s 1, 5 and 15 minute load averages at the start and the end. */
  readonly loadAverage: { readonly start: string; readonly end: string };
  /** How `total_commands_processed` grew for one EVAL running SET and GET. */
  readonly scriptGrowth: number;
}

/** Milliseconds with 2, 1 or 0 decimals by size; "–" when there is no value. */
export function ms(v: number): string {
  if (!Number.isFinite(v)) return "–";
  return v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0);
}

const rate = (v: number) => Number.isFinite(v) ? Math.round(v).toString() : "–";
const ratio = (a: number, b: number) => b > 0 ? `${(a / b).toFixed(2)}×` : "–";
const reqs = (r: RunResult) =>
  Number.isFinite(r.requestsPerAcq)
    ? `${r.requestsApprox ? "≤" : ""}${r.requestsPerAcq.toFixed(2)}`
    : "–";
const cmds = (r: RunResult) =>
  Number.isFinite(r.commandsPerAcq) ? r.commandsPerAcq.toFixed(1) : "–";
const failures = (r: RunResult) => `${r.failed}${r.errors ? ` (+${r.errors} errors)` : ""}`;
const overlaps = (r: RunResult) => `${r.overlaps + r.intervalOverlaps}`;

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** The table of the single-process runs with one hold time, rows by contenders then lock. */
export function holdTable(results: readonly RunResult[], holdMs: number): string {
  const runs = results.filter((r) => r.processes === 1 && r.holdMs === holdMs);
  const base = (n: number) =>
    runs.find((r) => r.lock === "redislock" && r.contenders === n)?.acqPerSec ?? NaN;
  return table(
    [
      "Lock",
      "N",
      "acq/s",
      "vs RedisLock",
      "wait p50 ms",
      "wait p99 ms",
      "wait max ms",
      "hand-off p50 ms",
      "hand-off p99 ms",
      "acq per contender min–max",
      "req/acq",
      "Redis cmds/acq",
      "failed",
      "overlaps",
    ],
    [...runs].sort((a, b) => a.contenders - b.contenders).map((r) => [
      r.label,
      `${r.contenders}`,
      rate(r.acqPerSec),
      ratio(r.acqPerSec, base(r.contenders)),
      ms(r.waitP50),
      ms(r.waitP99),
      ms(r.waitMax),
      ms(r.handoffP50),
      ms(r.handoffP99),
      `${r.fairMin}–${r.fairMax}`,
      reqs(r),
      cmds(r),
      failures(r),
      overlaps(r),
    ]),
  );
}

/** The 2-process runs next to the same lock's 1-process run. */
export function twoProcessTable(results: readonly RunResult[]): string {
  const two = results.filter((r) => r.processes === 2);
  const one = (r: RunResult) =>
    results.find((o) =>
      o.processes === 1 && o.lock === r.lock && o.contenders === r.contenders &&
      o.holdMs === r.holdMs
    );
  return table(
    [
      "Lock",
      "acq/s 2 proc",
      "acq/s 1 proc",
      "2 proc / 1 proc",
      "wait p50 ms",
      "wait p99 ms",
      "hand-off p50 ms",
      "hand-off p99 ms",
      "acq per contender min–max",
      "req/acq",
      "failed",
      "overlaps",
      "min gap ms",
    ],
    two.map((r) => [
      r.label,
      rate(r.acqPerSec),
      rate(one(r)?.acqPerSec ?? NaN),
      ratio(r.acqPerSec, one(r)?.acqPerSec ?? NaN),
      ms(r.waitP50),
      ms(r.waitP99),
      ms(r.handoffP50),
      ms(r.handoffP99),
      `${r.fairMin}–${r.fairMax}`,
      reqs(r),
      failures(r),
      overlaps(r),
      Number.isFinite(r.minSeparation) ? r.minSeparation.toFixed(3) : "–",
    ]),
  );
}

/** The locks and the options they ran with. */
export function locksTable(locks: readonly LockSpec[]): string {
  return table(
    ["Lock", "Client", "Settings"],
    locks.map((s) => [s.label, s.client, `\`${s.settings}\``]),
  );
}

/** The whole `compare.md`. */
export function markdown(
  facts: Facts,
  floor: Floor,
  locks: readonly LockSpec[],
  results: readonly RunResult[],
  notes: readonly string[],
): string {
  const holds = [...new Set(results.filter((r) => r.processes === 1).map((r) => r.holdMs))];
  return [
    "# Lock comparison under contention",
    "",
    `Generated by \`deno task bench:compare\` on ${facts.date}: ${facts.seconds} s per run, ` +
    `${Math.round(facts.wallSeconds)} s in all. One throwaway redis-server for every run.`,
    "",
    `Machine: ${facts.nproc} cores (\`nproc\`), ${facts.cpu}; Redis ${facts.redis}; ` +
    `Deno ${facts.deno}. Load average (1, 5, 15 min): ${facts.loadAverage.start} at the start, ` +
    `${facts.loadAverage.end} at the end; other jobs may have shared the machine, so single ` +
    "numbers are noisy: compare orders of magnitude, not percents.",
    "",
    "## How to read it",
    "",
    "- N contenders, each with its own connection and lock instance, loop acquire → hold → " +
    "release on one lock name for the whole run (a 1 ms hold is `setTimeout(1)`, which takes " +
    "1–2 ms). **acq/s**: acquisitions in the run per second; " +
    "**vs RedisLock**: against `RedisLock` with the same N and hold.",
    "- **wait**: acquire() call → acquired, over the acquisitions in the run; **max** also " +
    "counts calls still waiting when the run ended (up to its end), so starvation shows there.",
    "- **hand-off**: a holder's release() call → the next acquisition by anyone (including " +
    "itself).",
    "- **acq per contender**: fewest and most acquisitions of one contender (fairness).",
    "- **req/acq**: client requests to Redis per acquisition, from `INFO commandstats` " +
    "(commands run inside Lua scripts are not requests and are left out; `≤` marks an upper " +
    "bound). Connection set-up happens before the run and is not counted. **Redis cmds/acq**: " +
    "every command Redis ran per acquisition, those inside scripts included (server work).",
    "- With an unfair lock one contender can take the lock again and again: the wait " +
    "percentiles are per acquisition, so they mostly show that contender; the min–max column " +
    "and the max wait show the others.",
    "- **failed**: acquire() calls that gave up (the lock's own timeout or retry limit). " +
    "**overlaps**: exclusion violations, from an in-process counter (only a hold > 0 ms can " +
    "catch one in one process) and from the acquisitions' time intervals (across processes).",
    `- Floor: ${rate(floor.opsPerSec)} sequential PING round trips/s on one node-redis ` +
    `connection (p50 ${ms(floor.p50Ms)} ms, p99 ${ms(floor.p99Ms)} ms).`,
    "",
    "## Locks",
    "",
    locksTable(locks),
    "",
    ...holds.flatMap((h) => [`## ${h} ms hold`, "", holdTable(results, h), ""]),
    ...(results.some((r) => r.processes === 2)
      ? [
        "## 32 contenders over 2 processes, 0 ms hold",
        "",
        "Half the contenders in this process, half in a child process. **min gap**: the " +
        "smallest time between a release() call and the next acquisition, across processes " +
        "(negative would be an overlap).",
        "",
        twoProcessTable(results),
        "",
      ]
      : []),
    ...(notes.length > 0 ? ["## Notes", "", ...notes.map((n) => `- ${n}`), ""] : []),
  ].join("\n");
}
