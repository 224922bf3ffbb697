/**
 * Writes compare.md and compare.svg again (and the JSON's verdicts) from
 * bench/results/compare.json, without measuring: for a change to the
 * report's layout or to the criteria.
 *
 * Run:  deno run -A bench/compare/render.ts
 *
 * @module
 */

import { notesOf, writeOutputs } from "./output.ts";
import type { Outcome, RunResult } from "./report.ts";
import type { CommandOrigins } from "./requests.ts";

const RESULTS = new URL("../results/", import.meta.url);

// JSON writes NaN and Infinity as null; every null in the file was one of them.
const data = JSON.parse(
  await Deno.readTextFile(new URL("compare.json", RESULTS)),
  (_key, value) => value === null ? NaN : value,
);
const results = data.results as RunResult[];
const outcome: Outcome = {
  facts: { rounds: 1, ...data.facts },
  ping: data.ping,
  locks: data.locks,
  multiIds: [...new Set(results.filter((r) => r.processes > 1).map((r) => r.lock))],
  results,
  uncontended: data.uncontended,
  origins: new Map(Object.entries(data.counting.origins as Record<string, CommandOrigins>)),
  scriptOnly: new Set(data.counting.scriptOnly as string[]),
};
await writeOutputs(RESULTS, outcome, data.notes ?? notesOf(results, data.facts.scriptGrowth));
console.log("wrote bench/results/compare.{md,json,svg} from compare.json");
