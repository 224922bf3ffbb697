// The `redis-lock` command, run as a real child process (on the runtime
// running the tests) against a throwaway redis-server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { createClient } from "redis";
import { subscribers, until } from "./harness/env.ts";
import { startCli, withSetup } from "./harness/cli.ts";
import { freePort } from "./harness/redis.ts";

/**
 * A shell command that touches $DIR/<name>.ready, then idles for at most 5 s
 * (so nothing outlives a failed test for long). `onTerm` is its TERM trap.
 */
function idle(name: string, onTerm: string): string[] {
  const loop = `i=0; while [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done`;
  return ["sh", "-c", `trap '${onTerm}' TERM; touch "$DIR/${name}.ready"; ${loop}`];
}

test("run: two holders of one lock take turns; their commands never interleave", async () => {
  await withSetup(async ({ cli, dir }) => {
    const log = join(dir, "log");
    const work = ["sh", "-c", 'echo start >> "$LOG"; sleep 0.3; echo end >> "$LOG"'];
    const runs = [
      cli(["run", "job", "--", ...work], { env: { LOG: log } }),
      cli(["run", "--spin", "job", "--", ...work], { env: { LOG: log } }), // a spin lock excludes too
    ];
    assert.deepEqual(await Promise.all(runs.map((r) => r.exited)), [0, 0]);
    assert.deepEqual(readFileSync(log, "utf8").trim().split("\n"), [
      "start",
      "end",
      "start",
      "end",
    ]);
  });
});

test("run: exits with the command's exit code, and releases the lock", async () => {
  await withSetup(async ({ cli, server }) => {
    const ok = cli(["run", "a", "--", "sh", "-c", "echo ran"]);
    const failed = cli(["run", "b", "--", "sh", "-c", "exit 3"]);
    const missing = cli(["run", "c", "--", "no-such-command-for-redis-lock"]);
    assert.deepEqual(await Promise.all([ok.exited, failed.exited, missing.exited]), [0, 3, 127]);
    assert.equal(ok.stdout(), "ran\n");
    assert.match(missing.stderr(), /no-such-command-for-redis-lock.*not found/);
    assert.deepEqual(await server.command("KEYS", "*"), []);
  });
});

test("run: exits 75, or the -E code, when another holds the lock past --wait", async () => {
  await withSetup(async ({ cli, server }) => {
    await server.command("SET", "lock:{job}", "someone-else", "PX", "10000");
    const started = performance.now();
    const timedOut = cli(["run", "--wait", "200ms", "job", "--", "sh", "-c", "echo ran"]);
    const custom = cli(["run", "-E", "9", "--wait", "0", "job", "--", "sh", "-c", "echo ran"]);
    assert.deepEqual(await Promise.all([timedOut.exited, custom.exited]), [75, 9]);
    assert.ok(performance.now() - started < 8_000, "it did not wait for the 10 s lease");
    assert.equal(timedOut.stdout() + custom.stdout(), "", "the command did not run");
    assert.match(timedOut.stderr(), /^redis-lock: lock "job" is held .*200ms\n$/);
    assert.equal(await server.command("GET", "lock:{job}"), "someone-else");
  });
});

test("run: a lost lock stops the command (SIGTERM, then SIGKILL) and exits 76", async () => {
  await withSetup(async ({ cli, server, dir }) => {
    const onTerm = 'echo term > "$DIR/a.term"; exit 0';
    const polite = cli(["run", "--ttl", "1s", "a", "--", ...idle("a", onTerm)]);
    const stubborn = cli(
      ["run", "--ttl", "1s", "--kill-after", "200ms", "b", "--", ...idle("b", "")],
    );
    await until(
      () => existsSync(join(dir, "a.ready")) && existsSync(join(dir, "b.ready")),
      "both commands run",
    );
    await server.command("DEL", "lock:{a}", "lock:{b}"); // behind the holders' backs
    assert.deepEqual(await Promise.all([polite.exited, stubborn.exited]), [76, 76]);
    assert.equal(readFileSync(join(dir, "a.term"), "utf8"), "term\n");
    // One line from redis-lock (the command's shell may add "Terminated" for
    // its own child: the whole process group gets the signal).
    const own = polite.stderr().split("\n").filter((line) => line.startsWith("redis-lock"));
    assert.equal(own.length, 1, polite.stderr());
    assert.match(own[0], /^redis-lock: .*"a".*lost.*SIGTERM/);
  });
});

test("run: SIGTERM goes on to the command, and the lock is released once it ends", async () => {
  await withSetup(async ({ cli, server, dir }) => {
    const run = cli(["run", "job", "--", ...idle("job", 'echo got-term > "$DIR/marker"; exit 5')]);
    await until(() => existsSync(join(dir, "job.ready")), "the command runs");
    assert.equal(await server.command("EXISTS", "lock:{job}"), 1);
    process.kill(run.process.pid!, "SIGTERM"); // not .kill(): Deno then reports the signal as the exit
    assert.equal(await run.exited, 5, "the command's own exit code");
    assert.equal(readFileSync(join(dir, "marker"), "utf8"), "got-term\n");
    assert.equal(await server.command("EXISTS", "lock:{job}"), 0);
  });
});

test("run: SIGTERM while waiting stops the wait with 143, without taking the lock", async () => {
  await withSetup(async ({ cli, server }) => {
    await server.command("SET", "lock:{job}", "someone-else", "PX", "10000");
    const run = cli(["run", "job", "--", "sh", "-c", "echo ran"]);
    await until(async () => await subscribers(server, "lock:{job}:wake") === 1, "it waits");
    process.kill(run.process.pid!, "SIGTERM"); // not .kill(): Deno then reports the signal as the exit
    assert.equal(await run.exited, 143);
    assert.equal(run.stdout(), "");
    assert.equal(await server.command("GET", "lock:{job}"), "someone-else");
  });
});

test("run --fencing passes the fencing token in REDIS_LOCK_FENCING_TOKEN", async () => {
  await withSetup(async ({ cli, server }) => {
    // Tokens are max(counter + 1, Redis TIME in µs): a counter ahead of the clock shows the +1.
    await server.command("SET", "lock:{job}:fence", "4000000000000000");
    const echo = ["sh", "-c", 'echo "token=$REDIS_LOCK_FENCING_TOKEN"'];
    const fenced = cli(["run", "--fencing", "job", "--", ...echo]);
    assert.equal(await fenced.exited, 0);
    assert.equal(fenced.stdout(), "token=4000000000000001\n");
  });
});

test("run queues in Redis (fair mode) and is handed the lock on release", async () => {
  await withSetup(async ({ cli, server }) => {
    await server.command("SET", "lock:{job}", "someone", "PX", "60000");
    const waiter = cli(["run", "--wait", "20s", "job", "--", "sh", "-c", "echo ran"]);
    await until(
      async () => Number(await server.command("ZCOUNT", "lock:{job}:queue", "(0", "+inf")) === 1,
      "the run is queued",
    );
    await server.command("DEL", "lock:{job}");
    assert.equal(await waiter.exited, 0);
    assert.equal(waiter.stdout(), "ran\n");
    assert.equal(await server.command("DBSIZE"), 0);
  });
});

test("status: shows the holder's remaining lease, waiters and fencing token; --json parses", async () => {
  await withSetup(async ({ cli, server }) => {
    await server.command("SET", "lock:{job}", "someone", "PX", "20000");
    await server.command("SET", "lock:{job}:fence", "7");
    const text = cli(["status", "job"]);
    const json = cli(["status", "--json", "job"]);
    const free = cli(["status", "free", "--json"]);
    assert.deepEqual(await Promise.all([text.exited, json.exited, free.exited]), [0, 0, 0]);
    assert.match(text.stdout(), /state: +held, (1\d|20)\.\ds left on the lease/);
    assert.match(text.stdout(), /fencing token: +7/);
    const held = JSON.parse(json.stdout());
    assert.ok(held.remaining > 10_000 && held.remaining <= 20_000, `${held.remaining}`);
    // A holder that recorded no identity (not this library's) is listed by its token.
    assert.deepEqual(held.holders.map((h: { token: string }) => h.token), ["someone"]);
    assert.deepEqual({ ...held, remaining: 0, holders: [] }, {
      name: "job",
      key: "lock:{job}",
      held: true,
      type: "string",
      remaining: 0,
      waiters: 0,
      fencingToken: 7,
      holders: [],
      queue: [],
    });
    assert.deepEqual(JSON.parse(free.stdout()), {
      name: "free",
      key: "lock:{free}",
      held: false,
      type: "none",
      remaining: 0,
      waiters: 0,
      fencingToken: null,
      holders: [],
      queue: [],
    });
  });
});

test("release --force deletes a held lock and wakes a waiting run; without --force it exits 2", async () => {
  await withSetup(async ({ cli, server }) => {
    await server.command("SET", "lock:{job}", "stuck", "PX", "60000");
    await server.command("SET", "lock:{job}:who:stuck", "1", "PX", "60000"); // its renewal's record
    const refused = cli(["release", "job"]);
    const waiter = cli(["run", "--wait", "20s", "job", "--", "sh", "-c", "echo ran"]);
    assert.equal(await refused.exited, 2);
    assert.match(refused.stderr(), /^redis-lock release: .*--force.*\n$/);
    assert.equal(await server.command("GET", "lock:{job}"), "stuck");
    const watcher = await createClient({ url: server.url }).connect();
    try {
      const messages: string[] = [];
      await watcher.subscribe("lock:{job}:wake", (message) => messages.push(message));
      await until(async () => await subscribers(server, "lock:{job}:wake") === 2, "the run waits");
      const release = cli(["release", "--force", "job"]);
      assert.equal(await release.exited, 0);
      assert.match(release.stdout(), /released/);
      assert.equal(
        await server.command("EXISTS", "lock:{job}:who:stuck"),
        0,
        "its record went too",
      );
      await until(() => messages.length > 0, "the wake-up arrives");
      assert.equal(messages[0], "released", "the waiters were woken");
      assert.equal(await waiter.exited, 0);
      assert.equal(waiter.stdout(), "ran\n");
    } finally {
      await watcher.close();
    }
  });
});

test("a bad duration, an unknown flag or command exit 2 with a one-line message", async () => {
  const env = { REDIS_URL: `redis://127.0.0.1:${await freePort()}` }; // never contacted
  const badDuration = startCli(["run", "--wait", "5x", "job", "--", "true"], { env });
  const unknownFlag = startCli(["run", "--bogus", "job", "--", "true"], { env });
  const unknownCommand = startCli(["lock", "job"], { env });
  const codes = await Promise.all([badDuration, unknownFlag, unknownCommand].map((c) => c.exited));
  assert.deepEqual(codes, [2, 2, 2]);
  assert.match(badDuration.stderr(), /^redis-lock run: --wait: bad duration "5x".*\n$/);
  assert.match(unknownFlag.stderr(), /^redis-lock run: unknown option --bogus.*\n$/);
  assert.match(unknownCommand.stderr(), /^redis-lock: unknown command "lock".*\n$/);
});

test("--help prints usage with examples and exits 0; an unreachable Redis exits 69", async () => {
  const env = { REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
  const help = startCli(["--help"], { env });
  const runHelp = startCli(["run", "--help"], { env });
  const unreachable = startCli(["status", "job"], { env });
  const codes = await Promise.all([help, runHelp, unreachable].map((c) => c.exited));
  assert.deepEqual(codes, [0, 0, 69]);
  assert.match(help.stdout(), /Usage:[\s\S]*Examples:/);
  assert.match(runHelp.stdout(), /--kill-after[\s\S]*Exit codes:[\s\S]*Examples:/);
  assert.match(unreachable.stderr(), /^redis-lock: cannot connect to Redis at .*\n$/);
});
