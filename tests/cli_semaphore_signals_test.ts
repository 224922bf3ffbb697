/**
 * `redis-lock run --limit N` stops, hands on and gives up as `run` on a lock
 * does: SIGTERM while holding or waiting, and Ctrl-Z past the lease.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { queuedIn, until } from "./harness/env.ts";
import { alive, idleLoop, pidIn, states, stopped, withSetup } from "./harness/cli.ts";
import { semaphoreKeys } from "../lib/redis/_semaphore_keys.ts";

const { holders, queue } = semaphoreKeys("job");

/** A command that writes its pid to $DIR/<name>.pid and idles. */
const command = (name: string) => ["sh", "-c", `echo $$ > "$DIR/${name}.pid"; ${idleLoop()}`];

test("run --limit: SIGTERM while holding is 143 and hands the permit to the queued run at once", async () => {
  await withSetup(async ({ cli, server, file }) => {
    const first = cli(["run", "--limit", "1", "job", "--", ...command("a")]);
    await until(() => pidIn(file("a.pid")) !== undefined, "a runs");
    const second = cli(["run", "--limit", "1", "job", "--", ...command("b")]);
    await queuedIn(server, queue, 1); // b
    const termedAt = performance.now();
    process.kill(first.pid, "SIGTERM");
    assert.equal(await first.exited, 143);
    await until(() => pidIn(file("b.pid")) !== undefined, "b runs");
    const took = performance.now() - termedAt;
    assert.ok(took < 1_500, `b started ${took.toFixed(0)} ms after a was stopped`);
    assert.ok(!alive(pidIn(file("a.pid"))!), "a's command is gone");
    process.kill(second.pid, "SIGTERM");
    assert.equal(await second.exited, 143);
    assert.equal(await server.command("DBSIZE"), 0, "no key left");
  });
});

test("run --limit: SIGTERM while waiting for a permit is 143 and leaves no queue entry", async () => {
  await withSetup(async ({ cli, server, file }) => {
    const holder = cli(["run", "--limit", "1", "job", "--", ...command("a")]);
    await until(() => pidIn(file("a.pid")) !== undefined, "a runs");
    const waiter = cli(["run", "--limit", "1", "job", "--", ...command("b")]);
    await queuedIn(server, queue, 1); // b
    process.kill(waiter.pid, "SIGTERM");
    assert.equal(await waiter.exited, 143);
    assert.equal(pidIn(file("b.pid")), undefined, "b never ran");
    assert.equal(await server.command("EXISTS", queue), 0, "no queue entry");
    process.kill(holder.pid, "SIGTERM");
    assert.equal(await holder.exited, 143);
    assert.equal(await server.command("DBSIZE"), 0);
  });
});

test("run --limit: stopped (Ctrl-Z) past the lease, the command is killed on resume (76)", async () => {
  await withSetup(async ({ cli, server, file }) => {
    const lapsed = cli(["run", "--limit", "2", "--ttl", "1s", "job", "--", ...command("b")]);
    await until(() => pidIn(file("b.pid")) !== undefined, "b runs");
    const b = pidIn(file("b.pid"))!;
    process.kill(lapsed.pid, "SIGTSTP");
    await until(() => stopped(b) && stopped(lapsed.pid), "both are stopped")
      .catch((err) => assert.fail(`${err.message}: ${states(b, lapsed.pid)}`));
    await until(async () => await server.command("EXISTS", holders) === 0, "the lease ends", 5_000);
    process.kill(lapsed.pid, "SIGCONT");
    assert.equal(await lapsed.exited, 76);
    assert.ok(!alive(b), "the stopped command was killed, never resumed");
  });
});
