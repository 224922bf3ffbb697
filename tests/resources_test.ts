import { test } from "node:test";
import assert from "node:assert/strict";
import { within } from "./harness/env.ts";
import { MODES } from "./harness/fault_modes.ts";
import { startChild } from "./harness/process.ts";
import { startRedis } from "./harness/redis.ts";

interface Round {
  readonly seconds: number;
  /** Heap while all waiters wait, and once they are all done (MiB, after a GC). */
  readonly waiting: number;
  readonly after: number;
}

/** The `<word> {json}` lines a fixture printed. */
function lines<T>(output: string, word: string): T[] {
  return output.split("\n").filter((line) => line.startsWith(`${word} `))
    .map((line) => JSON.parse(line.slice(word.length + 1)) as T);
}

for (const mode of MODES.filter((m) => m.pubsub)) {
  test(`${mode.name}: 10 000 waiters on 1 000 names share one subscriber connection, all acquire, and leave no channel, waiter or memory behind`, async () => {
    const server = await startRedis();
    // The rounds run in a child process of this runtime, which asserts the
    // sharing and the clean-up itself (see the fixture) and reports its heap.
    const child = startChild("fixtures/waiter_rounds.ts", [server.url, mode.name, "3"]);
    try {
      await within(child.waitFor("done"), 300_000, "the rounds");
      const [start] = lines<{ heap: number; gc: boolean }>(child.output(), "start");
      const rounds = lines<Round>(child.output(), "round");
      assert.equal(rounds.length, 3);
      const figures = rounds.map((r) =>
        `${r.seconds.toFixed(1)} s, heap ${r.waiting.toFixed(1)} MiB waiting, ` +
        `${r.after.toFixed(1)} after`
      );
      console.log(
        `${mode.name}, ${child.output().match(/done on (.*)/)![1]}: heap ` +
          `${start.heap.toFixed(1)} MiB at start; ${figures.join("; ")}` +
          (start.gc ? "" : " (no GC available: figures are rough)"),
      );
      // The first round also warms the runtime up (JIT, client buffers), so
      // the heap after it is the baseline. A leak grows the heap round after
      // round. Each "after" figure is read once the heap has stopped falling
      // (see the fixture) and moved by 0.3 MiB a round at most on every
      // runtime, so the growth per round may be at most a fortieth of what
      // the 10 000 waiters used while waiting (and at least 1 MiB): about
      // 100 bytes per acquisition. One leak tried, fair waiters never dropped
      // from the in-process hand-off registry, grew Deno's heap by 3 MiB a
      // round where 1.5 are allowed.
      assert.ok(start.gc, "the child process could not force a garbage collection");
      const growth = (rounds[2].after - rounds[0].after) / 2;
      const allowed = Math.max(1, (rounds[0].waiting - rounds[0].after) / 40);
      assert.ok(
        growth < allowed,
        `the heap grew by ${growth.toFixed(1)} MiB a round (allowed ${allowed.toFixed(1)})`,
      );
    } finally {
      child.process.kill("SIGKILL");
      await child.exited;
      await server.stop();
    }
  });
}
