/**
 * The README's first example, run the way a reader would run it: the first
 * ```ts block of README.md, pointed at a throwaway redis-server, in a child
 * process of the runtime under test. On Bun and Node the imports become what
 * a user of those runtimes writes ("redis", and this checkout's mod.ts for
 * "@x/redis-lock"); on Deno the block runs unchanged but for the URL.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RedisLock } from "../mod.ts";
import { testEnv, until, within } from "./harness/env.ts";
import { type Child, startChild } from "./harness/process.ts";
import type { RedisServer } from "./harness/redis.ts";

const TESTS_DIR = fileURLToPath(new URL(".", import.meta.url));
const README_URL = "redis://127.0.0.1:6379";
const LOCK_NAME = "reports:daily";

/** The first ```ts block of README.md. */
function firstExample(): string {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const block = readme.match(/^```ts\n([\s\S]*?)^```$/m)?.[1];
  assert.ok(block, "README.md has no ```ts block");
  return block;
}

/** The example as this runtime runs it, talking to `server`. */
function exampleFor(server: RedisServer): string {
  let code = firstExample();
  for (const expected of [README_URL, `"@x/redis-lock"`, `"npm:redis@^6"`, `"${LOCK_NAME}"`]) {
    assert.ok(code.includes(expected), `the README's first example no longer has ${expected}`);
  }
  code = code.replaceAll(README_URL, server.url);
  if (!("Deno" in globalThis)) {
    // The file is written two levels below the repository root (tests/.readme-*/).
    code = code.replaceAll(`"@x/redis-lock"`, `"../../mod.ts"`)
      .replaceAll(`"npm:redis@^6"`, `"redis"`);
  }
  return code;
}

/**
 * Writes the example under tests/ (so that "redis" and the repository's
 * deno.json resolve), starts it, and removes it and the child again.
 */
async function withExample(
  server: RedisServer,
  fn: (child: Child) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(TESTS_DIR, ".readme-"));
  let child: Child | undefined;
  try {
    writeFileSync(join(dir, "example.ts"), exampleFor(server));
    child = startChild(`${basename(dir)}/example.ts`);
    await fn(child);
  } finally {
    if (child && child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill("SIGKILL");
      await child.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The child's exit code, failing with its output if it has not exited within `ms`. */
async function exitCode(child: Child, ms: number): Promise<number | string> {
  return await within(child.exited, ms, `the example to exit; it printed: ${child.output()}`);
}

test("the README's first example takes the lock, prints, releases it and exits on its own", async () => {
  const env = await testEnv();
  try {
    await withExample(env.server, async (child) => {
      // Loose: a cold start of the runtime and the client on a loaded machine.
      assert.equal(await exitCode(child, 60_000), 0, `the example failed: ${child.output()}`);
      assert.match(child.output(), new RegExp(`^holding ${LOCK_NAME}\\b`));
      assert.deepEqual(await env.server.command("KEYS", "*"), [], "the example left keys behind");
    });
  } finally {
    await env.close();
  }
});

test("the README's first example waits while another process holds its lock", async () => {
  const env = await testEnv();
  try {
    const holder = new RedisLock(await env.client(), LOCK_NAME);
    await holder.lock();
    await withExample(env.server, async (child) => {
      // The example has failed an attempt and joined the lock's fair queue.
      const queue = `lock:{${LOCK_NAME}}:queue`;
      await until(
        async () =>
          await env.server.command("ZCOUNT", queue, "(0", "+inf") === 1 ||
          child.process.exitCode !== null,
        "the example to queue for the lock",
        60_000,
      );
      assert.equal(child.output(), "", "the example entered while the lock was held");
      assert.equal(await holder.owned(), true);
      await holder.release();
      await child.waitFor(`holding ${LOCK_NAME}`);
      assert.equal(await exitCode(child, 30_000), 0, `the example failed: ${child.output()}`);
    });
  } finally {
    await env.close();
  }
});
