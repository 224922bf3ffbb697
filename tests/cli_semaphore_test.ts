// `redis-lock run --limit N` and `redis-lock status` on a semaphore, run as
// real child processes against a throwaway redis-server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { createClient } from "redis";
import { RedisSemaphore } from "../mod.ts";
import { semaphoreKeys } from "../lib/redis/_semaphore_keys.ts";
import { queuedIn, redisNow, until } from "./harness/env.ts";
import { startChild } from "./harness/process.ts";
import { withSetup } from "./harness/cli.ts";

/** The most sections open at once in a log of `enter <pid>` / `exit <pid>` lines. */
function mostInside(log: string): number {
  let inside = 0;
  let most = 0;
  for (const line of log.trim().split("\n")) {
    inside += line.startsWith("enter") ? 1 : -1;
    most = Math.max(most, inside);
  }
  assert.equal(inside, 0, "every section ended");
  return most;
}

test("run --limit 2: four runs, two at a time, each with the command's exit code", async () => {
  await withSetup(async ({ cli, server, dir }) => {
    const log = join(dir, "log");
    const work = (code: number) => [
      "sh",
      "-c",
      `echo "enter $$" >> "$LOG"; sleep 0.4; echo "exit $$" >> "$LOG"; exit ${code}`,
    ];
    const runs = [0, 3, 0, 5].map((code) =>
      cli(["run", "--limit", "2", "job", "--", ...work(code)], { env: { LOG: log } })
    );
    assert.deepEqual(await Promise.all(runs.map((r) => r.exited)), [0, 3, 0, 5]);
    assert.equal(mostInside(readFileSync(log, "utf8")), 2, "two at once: the limit, reached");
    assert.equal(await server.command("DBSIZE"), 0, "no key left");
  });
});

test("run --limit: exits 75 when no permit comes free within --wait", async () => {
  await withSetup(async ({ cli, server }) => {
    const client = await createClient({ url: server.url }).connect();
    try {
      const holder = new RedisSemaphore(client as never, "job", { limit: 1 });
      await holder.lock();
      const busy = cli(["run", "-n", "1", "--wait", "200ms", "job", "--", "sh", "-c", "echo ran"]);
      assert.equal(await busy.exited, 75);
      assert.equal(busy.stdout(), "", "the command did not run");
      assert.match(busy.stderr(), /semaphore "job" has no free permit of 1; waited 200ms/);
      // The lock of the same name is another thing: free.
      const lock = cli(["run", "--wait", "0", "job", "--", "sh", "-c", "echo ran"]);
      assert.equal(await lock.exited, 0);
      await holder.release();
    } finally {
      await client.close();
    }
  });
});

test("run --limit: the lease is renewed while the command runs, and a lost permit stops it (76)", async () => {
  await withSetup(async ({ cli, server, dir }) => {
    const ready = join(dir, "ready");
    const loop = `touch "${ready}"; i=0; while [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done`;
    const run = cli(["run", "--limit", "3", "--ttl", "1s", "job", "--", "sh", "-c", loop]);
    const { holders } = semaphoreKeys("job");
    await until(() => existsSync(ready), "the command runs");
    const lease = async () =>
      Number((await server.command("ZRANGE", holders, "0", "0", "WITHSCORES") as string[])[1]);
    const first = await lease();
    await until(async () => await lease() > first, "renewed");
    await server.command("DEL", holders); // behind the holder's back
    assert.equal(await run.exited, 76);
    assert.match(run.stderr(), /lost/);
  });
});

test("status: shows a semaphore's holders and waiters", async () => {
  await withSetup(async ({ cli, server }) => {
    const client = await createClient({ url: server.url }).connect();
    try {
      const make = () => new RedisSemaphore(client as never, "job", { limit: 2 });
      const held = [make(), make()];
      for (const h of held) await h.lock();
      const waiter = make();
      const waiting = waiter.acquire({ blockingTimeout: 20_000 });
      const { queue } = semaphoreKeys("job");
      await queuedIn(server, queue, 1);
      const text = cli(["status", "job"]);
      const json = cli(["status", "--json", "job"]);
      assert.deepEqual(await Promise.all([text.exited, json.exited]), [0, 0]);
      assert.match(text.stdout(), /state: +free/);
      assert.match(text.stdout(), /semaphore: +2 holders \(leases left: \d+ ms, \d+ ms\)/);
      assert.match(text.stdout(), /sem\. waiting: +1 waiter\n/);
      // Who holds and who waits, with their process ids (this process's).
      const holderLines = text.stdout().match(/^holder: .*$/gm) ?? [];
      assert.equal(holderLines.length, 2, text.stdout());
      for (const line of holderLines) assert.match(line, new RegExp(`pid ${process.pid}\\b`));
      assert.match(text.stdout(), /^queue: +1\. .*waiting/m);
      const { semaphore } = JSON.parse(json.stdout());
      assert.equal(semaphore.key, "sem:{job}:holders");
      assert.equal(semaphore.holders.length, 2);
      assert.equal(semaphore.holders[0].identity.pid, process.pid);
      assert.equal(semaphore.queue.length, 1);
      assert.equal(semaphore.waiters, 1);
      assert.ok(semaphore.leases.every((ms: number) => ms > 20_000 && ms <= 30_000));
      for (const h of held) await h.release();
      assert.equal(await waiting, true);
      await waiter.release();
      const free = cli(["status", "--json", "job"]);
      assert.equal(await free.exited, 0);
      assert.equal(JSON.parse(free.stdout()).semaphore, undefined, "unused: not shown");
    } finally {
      await client.close();
    }
  });
});

test("run --limit: bad values and --spin or --fencing are usage errors (exit 2)", async () => {
  await withSetup(async ({ cli }) => {
    const bad = [["0"], ["-1"], ["1.5"], ["x"], ["2147483648"], ["2", "--spin"], [
      "2",
      "--fencing",
    ]];
    const runs = bad.map(([n, flag]) =>
      cli(["run", "--limit", n, ...(flag ? [flag] : []), "job", "--", "true"])
    );
    assert.deepEqual(await Promise.all(runs.map((r) => r.exited)), bad.map(() => 2));
    assert.match(runs[0].stderr(), /--limit: must be a whole number from 1/);
    assert.match(runs[5].stderr(), /--limit cannot be combined with --spin/);
  });
});

test("status: counts every live holder of a semaphore, past the 1 000 leases it lists", async () => {
  await withSetup(async ({ cli, server }) => {
    const client = await createClient({ url: server.url }).connect();
    try {
      const options = { limit: 5_000, autoExtend: false };
      const held = Array.from(
        { length: 1_100 },
        () => new RedisSemaphore(client as never, "job", options),
      );
      await Promise.all(held.map((s) => s.lock()));
      const text = cli(["status", "job"]);
      const json = cli(["status", "--json", "job"]);
      assert.deepEqual(await Promise.all([text.exited, json.exited]), [0, 0]);
      assert.match(
        text.stdout(),
        /semaphore: +1100 holders \(leases left: (\d+ ms, ){4}\d+ ms, \.\.\.\)/,
      );
      const { semaphore } = JSON.parse(json.stdout());
      assert.equal(semaphore.holderCount, 1_100);
      assert.equal(semaphore.leases.length, 1_000);
      await Promise.all(held.map((s) => s.release()));
    } finally {
      await client.close();
    }
  });
});

test("status: a queued waiter whose liveness lapsed (killed) is not counted as waiting", async () => {
  await withSetup(async ({ cli, server }) => {
    const client = await createClient({ url: server.url }).connect();
    try {
      const holder = new RedisSemaphore(client as never, "job", { limit: 1 });
      await holder.lock();
      const { queue } = semaphoreKeys("job");
      // Liveness 1 000 ms (handoffTimeout), never refreshed once killed.
      const args = [
        server.url,
        "node-redis v6 RESP3",
        "job",
        "1",
        "30000",
        "1000",
        "wait",
        "/dev/null",
      ];
      const dead = startChild("fixtures/sem_party.ts", args);
      await queuedIn(server, queue, 1);
      dead.process.kill("SIGKILL");
      await dead.exited;
      const live = new RedisSemaphore(client as never, "job", { limit: 1 }); // keeps the queue key
      const waiting = live.acquire({ blockingTimeout: 20_000 });
      await queuedIn(server, queue, 2);
      // Until the killed waiter's liveness deadline has passed (its `!` entry
      // scores minus the deadline: above minus now).
      const lapsed = async () =>
        Number(await server.command("ZCOUNT", queue, `(${-await redisNow(server)}`, "(0")) === 1;
      await until(lapsed, "the killed waiter's liveness deadline passed", 5_000);
      const json = cli(["status", "--json", "job"]);
      assert.equal(await json.exited, 0);
      const { semaphore } = JSON.parse(json.stdout());
      assert.equal(semaphore.waiters, 1, "only the live waiter");
      assert.equal(semaphore.queue.length, 1);
      await holder.release();
      assert.equal(await waiting, true);
      await live.release();
    } finally {
      await client.close();
    }
  });
});
