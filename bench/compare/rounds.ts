/**
 * Several rounds of one lock in one cell, as one row: on a machine shared
 * with other jobs a single window can land on a burst of their load, so
 * `--rounds R` runs every cell R times (the cell's locks in turn, the
 * order reversed every other round) and reports, per figure, the median
 * round.
 *
 * Rates, waits, costs and the share are medians (the lower middle value
 * for an even count: always a measured one); the acquisitions-per-contender
 * counts come from the round with the median share; counts of acquisitions,
 * requests, failures, errors and overlaps are summed (an exclusion
 * violation in any round shows); the smallest gap is the smallest of all.
 *
 * @module
 */

import type { RunResult } from "./report.ts";

/** The names of `RunResult`'s number fields. */
type Numeric = {
  [K in keyof RunResult]-?: RunResult[K] extends number ? K : never;
}[keyof RunResult];

const MEDIANS: readonly Numeric[] = [
  "acqPerSec",
  "waitP50",
  "waitP99",
  "waitMax",
  "handoffP50",
  "handoffP99",
  "shareMin",
  "requestsPerAcq",
  "commandsPerAcq",
  "redisCpuPerAcq",
  "clientCpuPerAcq",
];
const SUMS: readonly Numeric[] = [
  "seconds",
  "acquisitions",
  "failed",
  "errors",
  "overlaps",
  "intervalOverlaps",
  "requests",
  "clientCpuMicros",
];

/** The lower median of `values` (NaN last). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => (Number.isNaN(a) ? 1 : Number.isNaN(b) ? -1 : a - b));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** One row for the rounds of one lock in one cell. */
export function combine(rounds: readonly RunResult[]): RunResult {
  if (rounds.length === 1) return rounds[0];
  const share = median(rounds.map((r) => r.shareMin));
  const typical = rounds.find((r) => Object.is(r.shareMin, share)) ?? rounds[0];
  const out: Record<string, unknown> = { ...typical };
  for (const k of MEDIANS) out[k] = median(rounds.map((r) => r[k]));
  for (const k of SUMS) out[k] = rounds.reduce((n, r) => n + r[k], 0);
  const commands: Record<string, number> = {};
  for (const r of rounds) {
    for (const [name, calls] of Object.entries(r.commands)) {
      commands[name] = (commands[name] ?? 0) + calls;
    }
  }
  return {
    ...out as unknown as RunResult,
    minSeparation: Math.min(...rounds.map((r) => r.minSeparation)),
    requestsApprox: rounds.some((r) => r.requestsApprox),
    errorSample: rounds.find((r) => r.errorSample)?.errorSample,
    commands,
    rounds: rounds.length,
  };
}
