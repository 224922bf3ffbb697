/**
 * The script runner: EVALSHA with a NOSCRIPT fallback, and calls made
 * together go out in the order they were made.
 */

import assert from "node:assert/strict";
import { resolveDriver } from "../lib/clients/lock_client.ts";
import { runScript } from "../lib/redis/_script_runner.ts";
import type { Script } from "../lib/redis/_scripts.ts";
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
