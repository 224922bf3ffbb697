/**
 * Turns the raw records of one run (from one process or several) into the
 * numbers of the report: throughput, wait and hand-off percentiles,
 * fairness, failures and the exclusion checks.
 *
 * @module
 */

import type { RawRun } from "./run.ts";

/** The measured numbers of one run, times in ms. */
export interface RunMetrics {
  readonly seconds: number;
  readonly acquisitions: number;
  readonly acqPerSec: number;
  readonly failed: number;
  readonly errors: number;
  readonly errorSample?: string;
  /** acquire() call → acquired, over the acquisitions in the window. */
  readonly waitP50: number;
  readonly waitP99: number;
  /** The longest wait, counting calls still waiting at the end (up to the end). */
  readonly waitMax: number;
  /** A release's start → the next acquisition by anyone. */
  readonly handoffP50: number;
  readonly handoffP99: number;
  readonly perContender: number[];
  readonly fairMin: number;
  readonly fairMax: number;
  /** The least acquisitions of one contender relative to the busiest one's (1 = equal shares). */
  readonly shareMin: number;
  /** Client CPU time during the window, summed over the processes, in µs. */
  readonly clientCpuMicros: number;
  /** In-process `inside` counter overlaps, summed over processes. */
  readonly overlaps: number;
  /** Acquisitions (all processes, sorted by time) that began before the previous holder's release. */
  readonly intervalOverlaps: number;
  /** Smallest gap between a holder's release() call and the next acquisition, in ms. */
  readonly minSeparation: number;
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * Acquisitions (sorted by `enter`) that began while `limit` others held:
 * a sweep over enters and exits (an exit at the same instant comes first).
 */
function overLimit(all: readonly RawRun["acquisitions"][number][], limit: number): number {
  const exits = all.map((a) => a.exit).sort((a, b) => a - b);
  let over = 0;
  let left = 0;
  for (const [i, a] of all.entries()) {
    while (left < exits.length && exits[left] <= a.enter) left++;
    if (i - left >= limit) over++; // i entered before, `left` of them have exited
  }
  return over;
}

/**
 * Summarises one run; `runs` holds one record per process, sharing one
 * window. `limit`: how many may hold at once (1 for a lock).
 */
export function summarise(runs: readonly RawRun[], limit = 1): RunMetrics {
  const windowStart = Math.min(...runs.map((r) => r.windowStart));
  const windowEnd = Math.max(...runs.map((r) => r.windowEnd));
  const all = runs.flatMap((r) => r.acquisitions).sort((a, b) => a.enter - b.enter);
  const inWindow = all.filter((a) => a.enter <= windowEnd);

  const waits = inWindow.map((a) => a.enter - a.start).sort((a, b) => a - b);
  const longest = [...waits.slice(-1), ...runs.flatMap((r) => r.pendingWaits)];

  const handoffs: number[] = [];
  let intervalOverlaps = 0;
  let minSeparation = Infinity;
  let lastExit = -Infinity;
  for (const [i, a] of all.entries()) {
    if (i > 0) {
      const gap = a.enter - lastExit;
      minSeparation = Math.min(minSeparation, gap);
      if (gap < 0) intervalOverlaps++;
      if (a.enter <= windowEnd) handoffs.push(a.enter - all[i - 1].exit);
    }
    lastExit = Math.max(lastExit, a.exit);
  }
  handoffs.sort((a, b) => a - b);

  const perContender = runs.flatMap((r) => r.perContender);
  const seconds = (windowEnd - windowStart) / 1000;
  const errors = runs.reduce((n, r) => n + r.errors, 0);
  return {
    seconds,
    acquisitions: inWindow.length,
    acqPerSec: inWindow.length / seconds,
    failed: runs.reduce((n, r) => n + r.failed, 0),
    errors,
    errorSample: runs.find((r) => r.errorSample)?.errorSample,
    waitP50: percentile(waits, 50),
    waitP99: percentile(waits, 99),
    waitMax: longest.length > 0 ? Math.max(...longest) : NaN,
    handoffP50: percentile(handoffs, 50),
    handoffP99: percentile(handoffs, 99),
    perContender,
    fairMin: Math.min(...perContender),
    fairMax: Math.max(...perContender),
    shareMin: Math.min(...perContender) / Math.max(...perContender),
    clientCpuMicros: runs.reduce((n, r) => n + r.clientCpuMicros, 0),
    overlaps: runs.reduce((n, r) => n + r.overlaps, 0),
    intervalOverlaps: limit === 1 ? intervalOverlaps : overLimit(all, limit),
    minSeparation,
  };
}
