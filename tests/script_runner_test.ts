/**
 * The script runner: EVALSHA with a NOSCRIPT fallback, and calls made
 * together go out in the order they were made.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveDriver } from "../lib/clients/lock_client.ts";
import { runScript } from "../lib/redis/_script_runner.ts";
import type { Script } from "../lib/redis/_scripts.ts";
import type { RedisDriver } from "../lib/redis/driver.ts";
import { eachClient } from "./harness/env.ts";

/** A script never run before in this process (its digest is not cached). */
function freshScript(): Script {
  return {
    name: "append",
    source: `-- ${crypto.randomUUID()}\nreturn redis.call('RPUSH', KEYS[1], ARGV[1])`,
  };
}

eachClient(
  "runs of a new script made together reach Redis in the order they were made",
  async (env) => {
    const driver = resolveDriver(await env.client());
    const script = freshScript();
    const runs = Array.from(
      { length: 64 },
      (_, i) => runScript(driver, script, ["order"], [`${i}`]),
    );
    await Promise.all(runs);
    const order = await env.server.command("LRANGE", "order", "0", "-1") as string[];
    assert.deepEqual(
      order,
      Array.from({ length: 64 }, (_, i) => `${i}`),
    );
  },
);

eachClient(
  "a script the server forgot (SCRIPT FLUSH) is loaded again by its next run",
  async (env) => {
    const driver = resolveDriver(await env.client());
    const script = freshScript();
    assert.equal(Number(await runScript(driver, script, ["n"], ["a"])), 1);
    await env.server.command("SCRIPT", "FLUSH");
    assert.equal(Number(await runScript(driver, script, ["n"], ["b"])), 2);
    assert.deepEqual(await env.server.command("LRANGE", "n", "0", "-1"), ["a", "b"]);
  },
);

test("a run made while earlier first runs of a script wait for its digest goes out after them", async () => {
  const sent: string[] = [];
  const driver = {
    evalsha: (_sha: string, _keys: string[], args: string[]) => {
      sent.push(args[0]);
      return Promise.resolve(1);
    },
    eval: () => Promise.resolve(1),
  } as unknown as RedisDriver; // argument order only: a unit test of the runner
  const subtle = crypto.subtle as unknown as Record<string, unknown>;
  const realDigest = crypto.subtle.digest.bind(crypto.subtle);
  const orders: string[] = [];
  try {
    for (let hops = 0; hops < 6; hops++) {
      sent.length = 0;
      const script = freshScript();
      const digest = await realDigest("SHA-1", new TextEncoder().encode(script.source));
      let settle!: () => void;
      const cue = new Promise<void>((resolve) => settle = resolve);
      subtle.digest = () => cue.then(() => digest); // the digest settles on cue
      const a = runScript(driver, script, [], ["A"]);
      const b = runScript(driver, script, [], ["B"]);
      delete subtle.digest;
      const c = cue.then(async () => {
        for (let i = 0; i < hops; i++) await null;
        return runScript(driver, script, [], ["C"]); // made after A and B
      });
      settle();
      await Promise.all([a, b, c]);
      orders.push(`${hops}:${sent.join("")}`);
    }
  } finally {
    delete subtle.digest;
  }
  assert.deepEqual(orders.filter((o) => !o.endsWith("ABC")), [], orders.join(" "));
});
