import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisSemaphore } from "../mod.ts";
import { semaphoreKeys } from "../lib/redis/_semaphore_keys.ts";
import { type ClientKind, queuedIn, type TestEnv, until } from "./harness/env.ts";
import { eachKind } from "./harness/fault_modes.ts";
import { startChild } from "./harness/process.ts";

const QUEUE = semaphoreKeys("sem").queue;

/**
 * One test per client kind: a server, a client of that kind for this
 * process, and a scratch directory; the child parties use the same kind.
 */
function eachKindWithDir(
  name: string,
  fn: (
    env: TestEnv,
    party: (args: string[]) => ReturnType<typeof startChild>,
    dir: string,
  ) => Promise<void>,
): void {
  eachKind(name, async (env: TestEnv, kind: ClientKind) => {
    const dir = mkdtempSync(join(tmpdir(), "sem-"));
    const party = (args: string[]) =>
      startChild("fixtures/sem_party.ts", [env.server.url, kind.name, "sem", ...args]);
    try {
      await fn(env, party, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/**
 * The most sections open at once in a log of `enter <pid>` / `exit <pid>`
 * lines (appends are atomic, so the file's order is the true order), and
 * any pid that entered twice without leaving.
 */
function mostInside(log: string): { most: number; entries: number } {
  const inside = new Set<string>();
  let most = 0;
  let entries = 0;
  for (const line of log.trim().split("\n")) {
    const [kind, pid] = line.split(" ");
    if (kind === "enter") {
      assert.ok(!inside.has(pid), `${pid} entered twice`);
      inside.add(pid);
      entries++;
      most = Math.max(most, inside.size);
    } else {
      assert.ok(inside.delete(pid), `${pid} left without entering`);
    }
  }
  assert.equal(inside.size, 0, "every section ended");
  return { most, entries };
}

eachKindWithDir(
  "semaphore: never more than limit inside, across 6 processes looping for 2 s",
  async (env, party, dir) => {
    const file = join(dir, "log");
    const children = Array.from(
      { length: 6 },
      () => party(["3", "5000", "3000", "loop", file, "2000"]),
    );
    await Promise.all(children.map((c) => c.waitFor("ready")));
    writeFileSync(`${file}.go`, "");
    assert.deepEqual(await Promise.all(children.map((c) => c.exited)), [0, 0, 0, 0, 0, 0]);
    const { most, entries } = mostInside(readFileSync(file, "utf8"));
    assert.equal(most, 3, `at most ${most} inside at once: the limit must be reached, not passed`);
    assert.ok(entries > 100, `only ${entries} acquisitions`);
    assert.equal(await env.server.command("DBSIZE"), 0, "no key left");
  },
);

eachKindWithDir(
  "semaphore: a SIGKILLed holder's permit comes back when its lease ends, not before",
  async (env, party) => {
    const client = await env.client();
    const mine = new RedisSemaphore(client, "sem", { limit: 2 });
    await mine.lock();
    const doomed = party(["2", "1000", "3000", "hold"]);
    await doomed.waitFor("held");
    const waiter = new RedisSemaphore(client, "sem", { limit: 2 });
    const acquiring = waiter.acquire({ blockingTimeout: 10_000 });
    await queuedIn(env.server, QUEUE, 1);
    doomed.process.kill("SIGKILL");
    const killedAt = performance.now();
    await doomed.exited;
    assert.equal(await acquiring, true);
    const waited = performance.now() - killedAt;
    // The lease had at least 2/3 of its 1 000 ms left (renewed every third),
    // and at most all of it; the waiter wakes when it ends (plus a round trip).
    assert.ok(waited > 600 && waited < 1_000 + 300, `came back after ${waited.toFixed(0)} ms`);
    await waiter.release();
    await mine.release();
  },
);

eachKindWithDir(
  "semaphore: a queued waiter killed with SIGKILL delays the next by at most about handoffTimeout",
  async (env, party, dir) => {
    const file = join(dir, "log");
    const holder = new RedisSemaphore(await env.client(), "sem", {
      limit: 1,
      handoffTimeout: 1_000,
    });
    await holder.lock();
    const doomed = party(["1", "30000", "1000", "wait", file]);
    await queuedIn(env.server, QUEUE, 1);
    const next = party(["1", "30000", "1000", "wait", file]);
    await queuedIn(env.server, QUEUE, 2);
    doomed.process.kill("SIGKILL");
    await doomed.exited;
    const releasedAt = performance.now();
    await holder.release(); // hands the permit to the dead waiter first
    assert.equal(await next.exited, 0);
    const waited = performance.now() - releasedAt;
    assert.ok(waited < 1_000 + 1_000, `next acquired ${waited.toFixed(0)} ms after the release`);
    assert.deepEqual(readFileSync(file, "utf8").trim().split("\n"), [`${next.process.pid}`]);
  },
);

// The waiters below refresh every 10 s (handoffTimeout 30 s): only the
// hand-off's message can wake them within the bounds checked.
eachKindWithDir(
  "semaphore: a release wakes a waiter of another process by its message",
  async (env, party, dir) => {
    const file = join(dir, "log");
    const holder = new RedisSemaphore(await env.client(), "sem", { limit: 1 });
    await holder.lock();
    const waiter = party(["1", "30000", "30000", "wait", file]);
    await queuedIn(env.server, QUEUE, 1);
    const releasedAt = performance.now();
    await holder.release();
    await until(() => existsSync(file), "the waiter took the permit");
    const waited = performance.now() - releasedAt;
    assert.ok(waited < 500, `the waiter took ${waited.toFixed(0)} ms after the release`);
    assert.equal(await waiter.exited, 0);
    assert.equal(await env.server.command("DBSIZE"), 0);
  },
);

eachKindWithDir(
  "semaphore: waiters of four processes take the permit in the order they queued",
  async (env, party, dir) => {
    const file = join(dir, "log");
    const holder = new RedisSemaphore(await env.client(), "sem", { limit: 1 });
    await holder.lock();
    const children = [];
    for (let i = 0; i < 4; i++) {
      children.push(party(["1", "30000", "30000", "wait", file]));
      await queuedIn(env.server, QUEUE, i + 1);
    }
    const releasedAt = performance.now();
    await holder.release();
    await until(
      () => existsSync(file) && readFileSync(file, "utf8").trim().split("\n").length === 4,
      "all took a turn",
    );
    const took = performance.now() - releasedAt;
    assert.deepEqual(await Promise.all(children.map((c) => c.exited)), [0, 0, 0, 0]);
    const order = readFileSync(file, "utf8").trim().split("\n").map(Number);
    assert.deepEqual(order, children.map((c) => c.process.pid), "first come, first served");
    assert.ok(took < 2_000, `four hand-offs by message took ${took.toFixed(0)} ms`);
    assert.equal(await env.server.command("DBSIZE"), 0);
  },
);
