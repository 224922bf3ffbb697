/**
 * The second process of `main.ts`'s 2-process runs:
 *
 *   deno run -A bench/compare/worker.ts '{"lock":"redislock","url":"redis://…","name":"…",
 *     "contenders":16,"holdMs":0,"seconds":3}'
 *
 * It opens and warms up its contenders, prints `READY`, reads `go <startAt>`
 * from stdin (a {@linkcode clock} time), runs the same window as the parent,
 * prints `RESULT <json of RawRun>` and exits. Anything else on stdout is
 * ignored by the parent.
 *
 * @module
 */

import { lockById } from "./locks.ts";
import { closeContenders, openContenders, runWindow, warmUp } from "./run.ts";

/** What the parent asks this process to run. */
export interface WorkerPlan {
  readonly lock: string;
  readonly url: string;
  readonly name: string;
  readonly contenders: number;
  readonly holdMs: number;
  readonly seconds: number;
}

async function main(plan: WorkerPlan): Promise<void> {
  const spec = lockById(plan.lock);
  const contenders = await openContenders(spec, plan.url, plan.name, plan.contenders);
  try {
    await warmUp(contenders);
    console.log("READY");
    // The parent writes one line and closes stdin.
    const line = await new Response(Deno.stdin.readable).text();
    const startAt = Number(/^go (\S+)/.exec(line)?.[1]);
    if (!Number.isFinite(startAt)) throw new Error(`expected "go <startAt>", got ${line}`);
    const run = await runWindow(contenders, plan.holdMs, startAt, plan.seconds);
    console.log(`RESULT ${JSON.stringify(run)}`);
  } finally {
    await closeContenders(contenders);
  }
}

if (import.meta.main) await main(JSON.parse(Deno.args[0]) as WorkerPlan);
