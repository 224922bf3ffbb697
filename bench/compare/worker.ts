/**
 * A worker process of the multi-process runs (`processes.ts`). It reads
 * orders from stdin, one a line, and answers on stdout:
 *
 *   open {"lock":"redislock","url":"redis://…","name":"…","contenders":1}
 *     → opens and warms up its contenders, prints `READY`
 *   go {"startAt":…,"holdMs":0,"seconds":3,"warmup":1}
 *     → runs a warm-up window of `warmup` seconds at once (discarded),
 *       then the window from `startAt` (a {@linkcode clock} time), closes
 *       its contenders, prints `RESULT <json of RawRun>`
 *
 * A failed order prints `ERROR <message>`; the end of stdin ends the
 * process. Anything else on stdout is ignored by the parent.
 *
 * @module
 */

import { type Contender, lockById } from "./locks.ts";
import { clock, closeContenders, openContenders, runWindow, warmUp } from "./run.ts";

/** Open contenders on a lock. */
export interface OpenOrder {
  readonly lock: string;
  readonly url: string;
  readonly name: string;
  readonly contenders: number;
}

/** Run the window with the open contenders. */
export interface GoOrder {
  readonly startAt: number;
  readonly holdMs: number;
  readonly seconds: number;
  /** How many may hold at once (a semaphore's limit; 1 for a lock). */
  readonly limit?: number;
  /** Seconds of contention to run first, not measured (see `measure.ts`). */
  readonly warmup?: number;
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    const all = buffer.split("\n");
    buffer = all.pop()!;
    yield* all;
  }
}

async function main(): Promise<void> {
  let open: Contender[] = [];
  for await (const line of lines(Deno.stdin.readable)) {
    const [, verb, json] = /^(\w+) (.*)$/.exec(line) ?? [];
    try {
      if (verb === "open") {
        const order = JSON.parse(json) as OpenOrder;
        open = await openContenders(lockById(order.lock), order.url, order.name, order.contenders);
        await warmUp(open);
        console.log("READY");
      } else if (verb === "go") {
        const order = JSON.parse(json) as GoOrder;
        if (order.warmup) await runWindow(open, order.holdMs, clock(), order.warmup, order.limit);
        if (!(order.startAt > clock() - 1000)) throw new Error(`late start ${order.startAt}`);
        const run = await runWindow(
          open,
          order.holdMs,
          order.startAt,
          order.seconds,
          order.limit,
        );
        await closeContenders(open);
        open = [];
        console.log(`RESULT ${JSON.stringify(run)}`);
      } else {
        throw new Error(`unknown order: ${line}`);
      }
    } catch (err) {
      await closeContenders(open);
      open = [];
      console.log(`ERROR ${err instanceof Error ? err.message : err}`.replaceAll("\n", " "));
    }
  }
  await closeContenders(open);
}

if (import.meta.main) await main();
