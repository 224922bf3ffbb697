import assert from "node:assert/strict";
import { RedisReadWriteLock } from "../mod.ts";
import { eachKind } from "./harness/fault_modes.ts";
import { queuedIn } from "./harness/env.ts";
import { startChild } from "./harness/process.ts";

/** How long after its lease's end a killed holder's lock is free at the latest (ms). */
const SLACK_MS = 500;

eachKind(
  "rwlock: processes reading and writing in a loop: a writer is always alone, readers overlap",
  async (env, kind) => {
    const children = [0, 1, 2, 3].map(() =>
      startChild("fixtures/rw_worker.ts", [env.server.url, kind.name, "rw", "40", "3"])
    );
    const codes = await Promise.all(children.map((c) => c.exited));
    assert.deepEqual(codes, [0, 0, 0, 0], children.map((c) => c.output()).join("\n"));
    let writes = 0;
    for (const c of children) writes += Number(c.output().match(/done \d+ (\d+)/)![1]);
    const get = async (key: string) => Number(await env.server.command("GET", key) ?? 0);
    assert.equal(await get("check:violations"), 0, "exclusion violated");
    assert.ok(await get("check:overlaps") > 0, "readers never overlapped");
    assert.ok(writes > 0, "no write ran");
    assert.deepEqual(await env.server.command("KEYS", "rwlock:*"), [], "no key left");
  },
);

for (const side of ["read", "write"] as const) {
  eachKind(
    `rwlock: a SIGKILLed ${
      side === "read" ? "reader" : "writer"
    } frees the lock within its ttl plus slack`,
    async (env, kind) => {
      const ttl = 1_000;
      const child = startChild("fixtures/rw_holder.ts", [
        env.server.url,
        kind.name,
        "rw",
        side,
        `${ttl}`,
      ]);
      await child.waitFor("held");
      const rw = new RedisReadWriteLock(await env.client(), "rw");
      const other = side === "read" ? rw.writeLock() : rw.readLock();
      assert.equal(await other.acquire({ blocking: false }), false);
      const waiting = other.acquire({ blockingTimeout: 10_000 }); // queued, asleep
      const killed = performance.now();
      child.process.kill("SIGKILL");
      await child.exited;
      assert.equal(await waiting, true);
      const freed = performance.now() - killed;
      assert.ok(freed < ttl + SLACK_MS, `free after ${freed.toFixed(0)} ms`);
      await other.release();
    },
  );
}

eachKind(
  "rwlock: a SIGKILLed queued writer holds the readers behind it off for about its handoffTimeout",
  async (env, kind) => {
    const handoffTimeout = 1_000;
    const rw = new RedisReadWriteLock(await env.client(), "rw", { handoffTimeout });
    const reader = await rw.readLock().lock();
    const args = [env.server.url, kind.name, "rw", "queue-write", "30000", `${handoffTimeout}`];
    const child = startChild("fixtures/rw_holder.ts", args);
    const queue = "rwlock:{rw}:queue";
    await queuedIn(env.server, queue, 1); // the writer
    child.process.kill("SIGKILL");
    await child.exited;
    const killed = performance.now();
    const late = rw.readLock();
    assert.equal(await late.acquire({ blockingTimeout: 10_000 }), true);
    const waited = performance.now() - killed;
    assert.ok(waited < handoffTimeout + SLACK_MS, `entered after ${waited.toFixed(0)} ms`);
    await late.release();
    await reader.release();
    assert.deepEqual(await env.server.command("KEYS", "rwlock:*"), [], "no key left");
  },
);

eachKind(
  "rwlock: a SIGKILLed queued reader, admitted by a writer's release, holds the next writer off for about its handoffTimeout",
  async (env, kind) => {
    const handoffTimeout = 1_000;
    const rw = new RedisReadWriteLock(await env.client(), "rw", { handoffTimeout });
    const writer = await rw.writeLock().lock();
    const args = [env.server.url, kind.name, "rw", "queue-read", "30000", `${handoffTimeout}`];
    const child = startChild("fixtures/rw_holder.ts", args);
    const queue = "rwlock:{rw}:queue";
    await queuedIn(env.server, queue, 1); // the reader
    const next = rw.writeLock();
    const writing = next.acquire({ blockingTimeout: 10_000 });
    await queuedIn(env.server, queue, 2); // the next writer
    child.process.kill("SIGKILL");
    await child.exited;
    const released = performance.now();
    await writer.release(); // admits the dead reader: its liveness still runs
    assert.equal(await writing, true);
    const waited = performance.now() - released;
    assert.ok(waited < handoffTimeout + SLACK_MS, `entered after ${waited.toFixed(0)} ms`);
    await next.release();
    assert.deepEqual(await env.server.command("KEYS", "rwlock:*"), [], "no key left");
  },
);
