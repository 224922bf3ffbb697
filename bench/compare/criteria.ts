/**
 * Issue 16's "Done when" criteria, judged on one run of the comparison: the
 * default `RedisLock` against the hand-off floor on the same client.
 *
 * - In one process with 8 and 32 contenders at 0 ms hold, and with 8 and 16
 *   processes at 0 and 1 ms hold: acquisitions/s ≥ 0.9× the floor's, p99
 *   wait ≤ 1.5×, Redis CPU per acquisition ≤ 1.2×.
 * - Redis CPU per acquisition grows by at most 10 % from 4 to 16 processes.
 * - In every cell: at most 4 requests per acquisition, and every
 *   contender's share within 10 % of the busiest one's (min/max ≥ 0.9).
 * - Uncontended acquire + release ≥ 0.9× a raw `SET NX PX` + `EVALSHA`
 *   delete (pairs per second).
 *
 * @module
 */

import type { ClientKind } from "./clients.ts";
import { DEFAULT_IDS, FLOOR_IDS } from "./locks.ts";
import { floorOf, ms, multi, ratio, type RunResult, table, whole } from "./report.ts";
import type { UncontendedResult } from "./uncontended.ts";

/** One criterion on one cell (or one client): its value, its bound, whether it is met. */
export interface Verdict {
  readonly client: ClientKind;
  readonly criterion: string;
  readonly cell: string;
  readonly value: number;
  readonly bound: string;
  readonly met: boolean;
  /** For context: the floor's own value, where it has one (the growth). */
  readonly floor?: number;
}

const ACQ_MIN = 0.9;
const P99_MAX = 1.5;
const CPU_MAX = 1.2;
const GROWTH_MAX = 1.1;
const REQUESTS_MAX = 4;
const SHARE_MIN = 0.9;
const UNCONTENDED_MIN = 0.9;

/** A cell's name: "1 process, C=8, 0 ms" or "16 processes, 1 ms". */
const cellOf = (r: RunResult) =>
  `${multi(r) ? `${r.contenders} processes` : `1 process, C=${r.contenders}`}, ${r.holdMs} ms`;

/** The cells where the ratios to the floor are judged. */
const judged = (r: RunResult) =>
  multi(r) ? [8, 16].includes(r.contenders) : r.holdMs === 0 && [8, 32].includes(r.contenders);

/** Every verdict on `client`. */
export function verdicts(
  results: readonly RunResult[],
  uncontended: readonly UncontendedResult[],
  client: ClientKind,
): Verdict[] {
  const out: Verdict[] = [];
  // A criterion whose runs are missing (a partial run) is left out, not failed.
  const add = (criterion: string, cell: string, value: number, bound: string, met: boolean) =>
    Number.isFinite(value) && out.push({ client, criterion, cell, value, bound, met });
  const ours = results.filter((r) => r.lock === DEFAULT_IDS[client]);
  for (const r of ours) {
    const cell = cellOf(r);
    const f = floorOf(results, r);
    if (judged(r) && f) {
      const acq = r.acqPerSec / f.acqPerSec;
      const p99 = r.waitP99 / f.waitP99;
      const cpu = r.redisCpuPerAcq / f.redisCpuPerAcq;
      add("acq/s vs floor", cell, acq, `≥ ${ACQ_MIN}`, acq >= ACQ_MIN);
      add("p99 wait vs floor", cell, p99, `≤ ${P99_MAX}`, p99 <= P99_MAX);
      add("Redis CPU/acq vs floor", cell, cpu, `≤ ${CPU_MAX}`, cpu <= CPU_MAX);
    }
    add(
      "requests/acq",
      cell,
      r.requestsPerAcq,
      `≤ ${REQUESTS_MAX}`,
      r.requestsPerAcq <= REQUESTS_MAX,
    );
    add("share min/max", cell, r.shareMin, `≥ ${SHARE_MIN}`, r.shareMin >= SHARE_MIN);
  }
  for (const hold of [0, 1]) {
    const growthOf = (id: string) => {
      const at = (p: number) =>
        results.find((r) => r.lock === id && multi(r) && r.contenders === p && r.holdMs === hold)
          ?.redisCpuPerAcq ?? NaN;
      return at(16) / at(4);
    };
    const growth = growthOf(DEFAULT_IDS[client]);
    const cell = `4 → 16 processes, ${hold} ms`;
    if (Number.isFinite(growth)) {
      out.push({
        client,
        criterion: "Redis CPU/acq growth",
        cell,
        value: growth,
        bound: `≤ ${GROWTH_MAX}`,
        met: growth <= GROWTH_MAX,
        floor: growthOf(FLOOR_IDS[client]),
      });
    }
  }
  for (const u of uncontended.filter((u) => u.client === client)) {
    add(
      "uncontended vs raw",
      "acquire + release",
      u.ratio,
      `≥ ${UNCONTENDED_MIN}`,
      u.ratio >= UNCONTENDED_MIN,
    );
  }
  return out;
}

/** A growth as a percentage against its bound, any other value as a ratio. */
function shown(v: Verdict): string {
  if (!v.criterion.includes("growth")) return `${v.value.toFixed(2)}× (${v.bound}×)`;
  const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(0)} %`;
  const floor = v.floor !== undefined && Number.isFinite(v.floor)
    ? `; the floor's: ${pct(v.floor - 1)}`
    : "";
  return `${pct(v.value - 1)} (≤ ${pct(GROWTH_MAX - 1)}${floor})`;
}

/** The default lock and the floor side by side in every cell the criteria look at. */
function sideBySide(results: readonly RunResult[], client: ClientKind): string {
  const ours = results.filter((r) => r.lock === DEFAULT_IDS[client]);
  const rows = [...ours].sort((a, b) =>
    a.processes - b.processes || a.holdMs - b.holdMs || a.contenders - b.contenders
  ).map((r) => {
    const f = floorOf(results, r);
    const mark = (ok: boolean) => judged(r) ? (ok ? " ✓" : " ✗") : "";
    const acq = r.acqPerSec / (f?.acqPerSec ?? NaN);
    const p99 = r.waitP99 / (f?.waitP99 ?? NaN);
    const cpu = r.redisCpuPerAcq / (f?.redisCpuPerAcq ?? NaN);
    return [
      cellOf(r),
      `${whole(f?.acqPerSec ?? NaN)} → ${whole(r.acqPerSec)}`,
      ratio(r.acqPerSec, f?.acqPerSec ?? NaN) + mark(acq >= ACQ_MIN),
      `${ms(f?.waitP99 ?? NaN)} → ${ms(r.waitP99)}`,
      ratio(r.waitP99, f?.waitP99 ?? NaN) + mark(p99 <= P99_MAX),
      `${whole(f?.redisCpuPerAcq ?? NaN)} → ${whole(r.redisCpuPerAcq)}`,
      ratio(r.redisCpuPerAcq, f?.redisCpuPerAcq ?? NaN) + mark(cpu <= CPU_MAX),
      `${(f?.commandsPerAcq ?? NaN).toFixed(1)} → ${r.commandsPerAcq.toFixed(1)}`,
      `${whole(f?.clientCpuPerAcq ?? NaN)} → ${whole(r.clientCpuPerAcq)}`,
      `${r.requestsPerAcq.toFixed(2)}${r.requestsPerAcq <= REQUESTS_MAX ? " ✓" : " ✗"}`,
      `${r.shareMin.toFixed(2)}${r.shareMin >= SHARE_MIN ? " ✓" : " ✗"}`,
    ];
  });
  return table(
    [
      "cell",
      "acq/s floor → ours",
      "ratio",
      "p99 ms floor → ours",
      "ratio",
      "Redis CPU µs/acq floor → ours",
      "ratio",
      "Redis ops/acq floor → ours",
      "client CPU µs/acq floor → ours",
      "req/acq",
      "share",
    ],
    rows,
  );
}

/** The Markdown section for both clients. */
export function criteriaSection(
  results: readonly RunResult[],
  uncontended: readonly UncontendedResult[],
): string[] {
  const out: string[] = [
    '## Issue 16\'s "Done when", measured',
    "",
    "The default `RedisLock` against the hand-off floor on the same client, in this run. Ratios " +
    "are ours / floor; ✓ or ✗ where a criterion applies (acq/s ≥ 0.9×, p99 ≤ 1.5×, Redis CPU " +
    "≤ 1.2× in one process with C = 8 and 32 at 0 ms and with 8 and 16 processes at 0 and 1 " +
    "ms; requests ≤ 4 and share ≥ 0.9 in every cell).",
    "",
  ];
  for (const client of Object.keys(FLOOR_IDS) as ClientKind[]) {
    const all = verdicts(results, uncontended, client);
    if (all.length === 0) continue;
    const met = all.filter((v) => v.met).length;
    out.push(
      `### ${client}: ${met} of ${all.length} met`,
      "",
      sideBySide(results, client),
      "",
      ...all.filter((v) => v.criterion.includes("growth") || v.criterion.includes("uncontended"))
        .map((v) => `- ${v.criterion}, ${v.cell}: ${shown(v)} ${v.met ? "✓" : "✗"}`),
      "",
    );
  }
  return out;
}
