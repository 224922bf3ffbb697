/**
 * Where `main.ts` puts its results: the tables on stdout, and
 * bench/results/compare.md, compare.json and compare.svg (formatted with
 * `deno fmt`, so that the repository's `deno fmt --check` stays clean).
 *
 * @module
 */

import { criteriaSection, verdicts } from "./criteria.ts";
import { markdown, sections, uncontendedTable } from "./markdown.ts";
import { type Facts, multi, type Outcome, type RunResult } from "./report.ts";
import { chartSvg } from "./svg.ts";

/** Machine facts: `nproc`, the CPU model, Redis's version (from `INFO server`), Deno's. */
export async function machineFacts(
  serverInfo: string,
): Promise<Pick<Facts, "nproc" | "cpu" | "redis" | "deno" | "date">> {
  const nproc = new TextDecoder().decode((await new Deno.Command("nproc").output()).stdout);
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo");
  return {
    date: new Date().toISOString(),
    nproc: Number(nproc),
    cpu: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? "?",
    redis: /redis_version:(\S+)/.exec(serverInfo)?.[1] ?? "?",
    deno: Deno.version.deno,
  };
}

/** The 1, 5 and 15 minute load averages from `/proc/loadavg`. */
export async function loadAverage(): Promise<string> {
  return (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
}

/** Remarks for the report: how things were counted, and any violation, error or failure. */
export function notesOf(results: readonly RunResult[], growth: number): string[] {
  const method = growth > 1
    ? "Redis counts commands run inside scripts, so requests are `commandstats` calls minus " +
      "the names each lock runs only inside scripts, learnt per lock under MONITOR"
    : "requests are `total_commands_processed`";
  const notes = [
    `Request counting: one EVAL running SET and GET grew \`total_commands_processed\` by ` +
    `${growth}: ${method} (see bench/compare/requests.ts).`,
    "A 0 ms hold releases in the same tick as the acquisition: the in-process counter cannot " +
    "see an overlap there, so exclusion in those runs is checked by the time intervals.",
  ];
  for (const r of results) {
    const where = `${r.label}, N=${r.contenders}, hold ${r.holdMs} ms, ${r.processes} proc`;
    if (r.overlaps + r.intervalOverlaps > 0) {
      notes.push(`**Exclusion violated** in ${where}: ${r.overlaps} + ${r.intervalOverlaps}.`);
    }
    if (r.errors > 0) notes.push(`${where}: ${r.errors} errors, e.g. \`${r.errorSample}\`.`);
    if (r.failed > r.acquisitions / 10) {
      notes.push(`${where}: ${r.failed} failed attempts for ${r.acquisitions} acquisitions.`);
    }
  }
  return notes;
}

/** Prints the tables and notes. */
export function printTables(outcome: Outcome, notes: readonly string[]): void {
  for (const [title, t] of sections(outcome.results)) console.log(`\n## ${title}\n\n${t}`);
  if (outcome.uncontended.length > 0) {
    console.log(`\n## Uncontended\n\n${uncontendedTable(outcome.uncontended)}`);
  }
  console.log(`\n${criteriaSection(outcome.results, outcome.uncontended).join("\n")}`);
  for (const note of notes) console.log(`- ${note}`);
}

function chart(outcome: Outcome): string {
  const { results, locks, facts } = outcome;
  const pick = (inProcess: boolean, xs: number[], value: (r: RunResult) => number) =>
    locks.map((s) =>
      xs.map((n) => {
        const r = results.find((r) =>
          r.lock === s.id && r.contenders === n && r.holdMs === 0 && multi(r) !== inProcess
        );
        return r ? value(r) : NaN;
      })
    );
  const inXs = [1, 8, 32];
  const multiXs = [4, 8, 16];
  return chartSvg({
    title: `Contention on one lock, 0 ms hold, ${facts.seconds} s per run`,
    series: locks.map((s) => s.label + (s.client === "ioredis" ? " (ioredis)" : "")),
    columns: 2,
    panels: [
      {
        title: "Throughput, N contenders in 1 process",
        xLabel: "contenders",
        xs: inXs,
        yLabel: "acquisitions/s (log)",
        values: pick(true, inXs, (r) => r.acqPerSec),
      },
      {
        title: "Wait p99, N contenders in 1 process",
        xLabel: "contenders",
        xs: inXs,
        yLabel: "ms (log)",
        values: pick(true, inXs, (r) => r.waitP99),
      },
      {
        title: "Throughput, 1 contender per process",
        xLabel: "processes",
        xs: multiXs,
        yLabel: "acquisitions/s (log)",
        values: pick(false, multiXs, (r) => r.acqPerSec),
      },
      {
        title: "Redis CPU per acquisition, 1 contender per process",
        xLabel: "processes",
        xs: multiXs,
        yLabel: "µs (log)",
        values: pick(false, multiXs, (r) => r.redisCpuPerAcq),
      },
    ],
  });
}

/** Writes compare.md, compare.json and compare.svg into `dir`, then formats them. */
export async function writeOutputs(
  dir: URL,
  outcome: Outcome,
  notes: readonly string[],
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const { facts, ping, locks, results, uncontended } = outcome;
  const md = new URL("compare.md", dir);
  const json = new URL("compare.json", dir);
  const svg = new URL("compare.svg", dir);
  await Deno.writeTextFile(md, markdown(outcome, notes));
  const counting = {
    scriptGrowth: facts.scriptGrowth,
    origins: Object.fromEntries(outcome.origins),
    scriptOnly: [...outcome.scriptOnly],
  };
  const criteria = (["node-redis", "ioredis"] as const).flatMap((c) =>
    verdicts(results, uncontended, c)
  );
  const data = {
    facts,
    ping,
    counting,
    locks: locks.map(({ id, label, client, settings }) => ({ id, label, client, settings })),
    criteria,
    notes,
    uncontended,
    results,
  };
  await Deno.writeTextFile(json, JSON.stringify(data, null, 2) + "\n");
  await Deno.writeTextFile(svg, chart(outcome));
  const files = [md, json, svg].map((u) => u.pathname);
  const fmt = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", ...files],
    cwd: new URL("../..", import.meta.url).pathname,
  }).output();
  if (!fmt.success) console.error(`deno fmt failed: ${new TextDecoder().decode(fmt.stderr)}`);
}
