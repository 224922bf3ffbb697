// `redis-lock run` keeps its one promise (no process of the command runs
// without the lock) the way an operator would test it: signals from a
// terminal and from systemd, SIGKILL, a deleted key, `release --force`, a
// network split. Real processes and a real redis-server throughout; every
// wait is for a condition (a file the command writes, a process state in
// /proc), not a sleep.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import process from "node:process";
import { until } from "./harness/env.ts";
import { startProxy } from "./harness/proxy.ts";
import { freePort } from "./harness/redis.ts";
import { lockKeys } from "../lib/redis/_keys.ts";
import { cliKeys } from "../cli/keys.ts";
import {
  alive,
  checkDead,
  childrenOf,
  type Cli,
  idleLoop,
  listening,
  pidIn,
  startCli,
  state,
  states,
  stopped,
  withSetup,
} from "./harness/cli.ts";

/**
 * A command with a worker below it, like `bash -c 'python3 worker.py; echo'`:
 * it writes its pid to $DIR/<name>.pid and the worker's to <name>-worker.pid.
 */
function tree(name: string): string[] {
  const worker = `echo $$ > "$DIR/${name}-worker.pid"; ${idleLoop()}`;
  return ["sh", "-c", `echo $$ > "$DIR/${name}.pid"; sh -c '${worker}'; echo after`];
}

/** How many queued waiters the lock `name` has (fair mode). */
async function queued(
  server: { command(...args: string[]): Promise<unknown> },
  name: string,
): Promise<number> {
  return Number(await server.command("ZCOUNT", `lock:{${name}}:queue`, "(0", "+inf"));
}

test("run: the command's children and grandchildren stop when the lock is lost, and at SIGTERM", async () => {
  await withSetup(async ({ cli, server, file }) => {
    const lost = cli(["run", "--ttl", "2s", "--kill-after", "500ms", "a", "--", ...tree("a")]);
    const termed = cli(["run", "b", "--", ...tree("b")]);
    await until(
      () => pidIn(file("a-worker.pid")) !== undefined && pidIn(file("b-worker.pid")) !== undefined,
      "both workers run",
    );
    await server.command("DEL", "lock:{a}"); // behind the holder's back
    process.kill(termed.pid, "SIGTERM");
    const gone = (cli: Cli, name: string) =>
      cli.exitCode.then((code) => {
        for (const pid of [`${name}.pid`, `${name}-worker.pid`].map((f) => pidIn(file(f))!)) {
          assert.ok(!alive(pid), `${name}: ${pid} is gone as redis-lock exits`);
        }
        return code;
      });
    assert.deepEqual(await Promise.all([gone(lost, "a"), gone(termed, "b")]), [76, 143]);
    assert.equal(await server.command("EXISTS", "lock:{b}"), 0, "b released");
  });
});

test("run: processes the command leaves in its group are stopped before the lock is released", async () => {
  await withSetup(async ({ cli, file }) => {
    // The leftover ignores SIGTERM, so it takes the SIGKILL after --kill-after.
    const leftover = `trap '' TERM; echo $$ > "$DIR/bg.pid"; ${idleLoop()}`;
    const run = cli([
      "run",
      "--kill-after",
      "300ms",
      "job",
      "--",
      "sh",
      "-c",
      `sh -c '${leftover}' & while [ ! -s "$DIR/bg.pid" ]; do sleep 0.01; done; exit 3`,
    ]);
    await until(() => pidIn(file("bg.pid")) !== undefined, "the leftover runs");
    const next = cli(["run", "--wait", "20s", "job", "--", "sh", "-c", checkDead("bg.pid")]);
    assert.equal(await run.exitCode, 3, "the command's own exit code");
    assert.ok(!alive(pidIn(file("bg.pid"))!), "the leftover is gone as redis-lock exits");
    await run.exited;
    assert.match(run.stderr(), /still run in its process group; stopping them/);
    assert.equal(await next.exited, 0);
    assert.equal(next.stdout(), "dead\n", "the next holder's command never saw it running");
  });
});

test("run: SIGKILL of redis-lock stops the command and its worker within a second", async () => {
  await withSetup(async ({ cli, file }) => {
    const run = cli(["run", "job", "--", ...tree("job")]);
    await until(() => pidIn(file("job-worker.pid")) !== undefined, "the worker runs");
    const [watchdog] = childrenOf(run.pid, "redis-lock-watchdog");
    assert.ok(watchdog !== undefined, "a watchdog runs beside redis-lock");
    process.kill(run.pid, "SIGKILL"); // the OOM killer, a wrong kill -9
    const command = pidIn(file("job.pid"))!;
    const worker = pidIn(file("job-worker.pid"))!;
    // The watchdog sees EOF only if nothing but redis-lock held its pipe:
    // the command did not inherit it.
    await until(() => !alive(command) && !alive(worker), "the command and worker stop", 1_000);
    await until(() => !alive(watchdog), "the watchdog is done", 1_000);
  });
});

test("run: after a network split the old command is dead before another run starts its command", async () => {
  await withSetup(async ({ cli, server, file }) => {
    const proxy = await startProxy(server.port);
    try {
      // The holder's command ignores SIGTERM: only the SIGKILL before its lease ends stops it.
      const stubborn = `trap '' TERM; echo $$ > "$DIR/a.pid"; ${idleLoop(30)}`;
      const holder = cli([
        "run",
        "--url",
        proxy.url,
        "--ttl",
        "4s",
        "--kill-after",
        "500ms",
        "job",
        "--",
        "sh",
        "-c",
        stubborn,
      ]);
      await until(() => pidIn(file("a.pid")) !== undefined, "the first command runs");
      const next = cli(["run", "--wait", "30s", "job", "--", "sh", "-c", checkDead("a.pid")]);
      await until(async () => await queued(server, "job") === 1, "the second run waits");
      proxy.stall(); // the split: the holder's renewals go nowhere
      assert.equal(await next.exited, 0);
      assert.equal(next.stdout(), "dead\n", "the old command was dead when the new one started");
      proxy.resume();
      assert.equal(await holder.exited, 76);
      assert.match(holder.stderr(), /no lease renewal has succeeded for .*SIGTERM/);
      assert.match(holder.stderr(), /SIGKILL, before the lease can end/);
    } finally {
      await proxy.close();
    }
  });
});

test("release --force: the holder's command stops, clean-up included, before a waiter's starts", async () => {
  await withSetup(async ({ cli, server, file }) => {
    const log = file("log");
    const env = { LOG: log };
    const cleanUp = `echo cleanup >> "$LOG"; sleep 0.3; echo cleaned >> "$LOG"; exit 0`;
    const first = `trap '${cleanUp}' TERM; echo $$ > "$DIR/a.pid"; echo a >> "$LOG"; ${idleLoop()}`;
    const holder = cli(["run", "job", "--", "sh", "-c", first], { env });
    await until(() => existsSync(log), "the first command runs");
    const second = `echo b >> "$LOG"; ${checkDead("a.pid")} >> "$LOG"`;
    const waiter = cli(["run", "--wait", "20s", "job", "--", "sh", "-c", second], { env });
    await until(async () => await queued(server, "job") === 1, "the second run waits");
    const release = cli(["release", "--force", "job"]);
    assert.equal(await release.exited, 0);
    assert.match(release.stdout(), /stopped its command and let go/);
    assert.deepEqual(await Promise.all([holder.exited, waiter.exited]), [76, 0]);
    assert.match(holder.stderr(), /revoked by release --force; stopping the command/);
    assert.deepEqual(readFileSync(log, "utf8").trim().split("\n"), [
      "a",
      "cleanup",
      "cleaned",
      "b",
      "dead",
    ]);
  });
});

/**
 * A command that counts SIGINT and SIGTERM and goes on; SIGUSR2 makes it
 * write the counts to $DIR/<name>.counts and exit 0.
 */
function counter(name: string): string[] {
  const count = (sig: string, v: string) =>
    `trap '${v}=$((${v}+1)); echo "${sig} $${v}" >> "$DIR/${name}.log"' ${sig}`;
  return [
    "sh",
    "-c",
    `n=0; t=0; ${count("INT", "n")}; ${count("TERM", "t")}; ` +
    `trap 'echo "INT=$n TERM=$t" > "$DIR/${name}.counts"; exit 0' USR2; ` +
    `touch "$DIR/${name}.ready"; ${idleLoop()}`,
  ];
}

test("run: Ctrl-C and a group-wide SIGTERM (sent to redis-lock's process group) reach the command once each", async () => {
  await withSetup(async ({ cli, file }) => {
    const log = () => existsSync(file("job.log")) ? readFileSync(file("job.log"), "utf8") : "";
    // Started as a shell starts a job: redis-lock leads its own process group.
    const run = cli(["run", "job", "--", ...counter("job")], { ownGroup: true });
    await until(() => existsSync(file("job.ready")), "the command runs");
    process.kill(-run.pid, "SIGINT"); // what the terminal does on Ctrl-C
    await until(() => log().includes("INT 1"), "the command got SIGINT");
    process.kill(-run.pid, "SIGTERM"); // systemd's KillMode=control-group, or kill -TERM -pgid
    await until(() => log().includes("TERM 1"), "the command got SIGTERM");
    process.kill(run.pid, "SIGUSR2"); // a later signal: any duplicate came before it
    assert.equal(await run.exited, 0);
    assert.equal(readFileSync(file("job.counts"), "utf8"), "INT=1 TERM=1\n");
  });
});

test("run --foreground: the command shares the terminal's group and gets Ctrl-C once, from the terminal", async () => {
  await withSetup(async ({ cli, file }) => {
    const log = () => existsSync(file("fg.log")) ? readFileSync(file("fg.log"), "utf8") : "";
    const run = cli(["run", "--foreground", "fg", "--", ...counter("fg")], { ownGroup: true });
    await until(() => existsSync(file("fg.ready")), "the command runs");
    process.kill(-run.pid, "SIGINT"); // the terminal signals its foreground group
    await until(() => log().includes("INT 1"), "the command got SIGINT");
    process.kill(run.pid, "SIGTERM"); // kill <redis-lock's pid>: passed on
    await until(() => log().includes("TERM 1"), "the command got SIGTERM");
    process.kill(run.pid, "SIGUSR2");
    assert.equal(await run.exited, 0);
    assert.equal(readFileSync(file("fg.counts"), "utf8"), "INT=1 TERM=1\n");
  });
});

test("run: SIGUSR1, SIGUSR2, SIGALRM and SIGQUIT go on to the command, none ends redis-lock, and SIGUSR1 opens no debugger", async () => {
  await withSetup(async ({ cli, file }) => {
    const got = () => existsSync(file("got")) ? readFileSync(file("got"), "utf8") : "";
    const traps = ["USR1", "USR2", "ALRM", "QUIT"]
      .map((sig) => `trap 'echo ${sig} >> "$DIR/got"' ${sig}`).join("; ");
    const started = performance.now();
    const run = cli([
      "run",
      "job",
      "--",
      "sh",
      "-c",
      `${traps}; trap 'exit 0' TERM; touch "$DIR/ready"; ${idleLoop()}`,
    ]);
    await until(() => existsSync(file("ready")), "the command runs");
    // Deno arms its SIGUSR1 inspector 500 ms after start: signal after that.
    await until(() => performance.now() - started > 700, "Deno's SIGUSR1 hook is armed");
    for (const sig of ["USR1", "USR2", "ALRM", "QUIT"]) {
      process.kill(run.pid, `SIG${sig}`);
      await until(() => got().includes(sig), `the command got SIG${sig}`);
      assert.equal(state(run.pid) !== undefined && alive(run.pid), true, `SIG${sig} spared it`);
    }
    assert.equal(got(), "USR1\nUSR2\nALRM\nQUIT\n", "each signal arrived once");
    const banner = run.stderr().match(/Debugger listening on ws:\/\/127\.0\.0\.1:(\d+)/);
    if ("Deno" in globalThis) {
      // Deno >= 2.9.2 opens its inspector on SIGUSR1 whatever the program
      // does; redis-lock closes it again within milliseconds.
      if (banner) {
        const port = Number(banner[1]);
        await until(async () => !(await listening(port)), "Deno's inspector is closed", 1_000);
      }
    } else {
      assert.equal(banner, null, run.stderr());
    }
    process.kill(run.pid, "SIGTERM");
    assert.equal(await run.exited, 0);
  });
});

test("run: Ctrl-Z stops the command with redis-lock and fg resumes it; a lease that ran out meanwhile kills it (76)", async () => {
  await withSetup(async ({ cli, server, file }) => {
    const command = (name: string) => ["sh", "-c", `echo $$ > "$DIR/${name}.pid"; ${idleLoop()}`];
    const resumed = cli(["run", "a", "--", ...command("a")]);
    await until(() => pidIn(file("a.pid")) !== undefined, "a runs");
    const a = pidIn(file("a.pid"))!;
    process.kill(resumed.pid, "SIGTSTP"); // Ctrl-Z (the terminal sends it to redis-lock's group)
    await until(() => stopped(a) && stopped(resumed.pid), "both are stopped")
      .catch((err) => assert.fail(`${err.message}: ${states(a, resumed.pid)}`));
    process.kill(resumed.pid, "SIGCONT"); // fg
    await until(() => !stopped(a) && !stopped(resumed.pid), "both run again")
      .catch((err) => assert.fail(`${err.message}: ${states(a, resumed.pid)}`));
    process.kill(resumed.pid, "SIGTERM");
    assert.equal(await resumed.exited, 143);

    const lapsed = cli(["run", "--ttl", "1s", "b", "--", ...command("b")]);
    await until(() => pidIn(file("b.pid")) !== undefined, "b runs");
    const b = pidIn(file("b.pid"))!;
    process.kill(lapsed.pid, "SIGTSTP");
    await until(() => stopped(b) && stopped(lapsed.pid), "both are stopped")
      .catch((err) => assert.fail(`${err.message}: ${states(b, lapsed.pid)}`));
    await until(async () => await server.command("EXISTS", "lock:{b}") === 0, "the lease ends");
    process.kill(lapsed.pid, "SIGCONT");
    assert.equal(await lapsed.exited, 76);
    assert.ok(!alive(b), "the stopped command was killed, never resumed");
  });
});

test("run: Ctrl-C while connecting to Redis stops at once with 130", async () => {
  await withSetup(async ({ cli, server }) => {
    const proxy = await startProxy(server.port);
    try {
      proxy.stall(); // the connection opens, but Redis never answers
      const run = cli(["run", "--url", proxy.url, "job", "--", "sh", "-c", "echo ran"]);
      await until(() => proxy.accepted >= 1, "it is connecting");
      const sent = performance.now();
      process.kill(run.pid, "SIGINT");
      assert.equal(await run.exited, 130);
      assert.ok(performance.now() - sent < 3_000, "not after the 5 s connect timeout");
      assert.equal(run.stdout(), "");
    } finally {
      await proxy.close();
    }
  });
});

test("run: a too short --ttl, or a --kill-after that does not fit in it, is a usage error (2)", async () => {
  const env = { REDIS_URL: `redis://127.0.0.1:${await freePort()}` }; // never contacted
  const tiny = startCli(["run", "--ttl", "2ms", "job", "--", "true"], { env });
  const oneMs = startCli(["run", "--ttl", "1", "job", "--", "true"], { env });
  const tooLong = startCli(["run", "--ttl", "3s", "--kill-after", "10s", "job", "--", "true"], {
    env,
  });
  const codes = await Promise.all([tiny, oneMs, tooLong].map((c) => c.exited));
  assert.deepEqual(codes, [2, 2, 2]);
  assert.match(tiny.stderr(), /^redis-lock run: --ttl: must be from 1\.0s/);
  assert.match(tooLong.stderr(), /--kill-after 10\.0s does not fit in --ttl 3\.0s.*at most 2\.5s/);
});

test("run: an inherited REDIS_LOCK_FENCING_TOKEN does not reach the command without --fencing", async () => {
  await withSetup(async ({ cli }) => {
    const show = ["sh", "-c", 'echo "token=${REDIS_LOCK_FENCING_TOKEN-unset}"'];
    const plain = cli(["run", "a", "--", ...show], { env: { REDIS_LOCK_FENCING_TOKEN: "999" } });
    const fenced = cli(["run", "--fencing", "b", "--", ...show], {
      env: { REDIS_LOCK_FENCING_TOKEN: "999" },
    });
    assert.deepEqual(await Promise.all([plain.exited, fenced.exited]), [0, 0]);
    assert.equal(plain.stdout(), "token=unset\n");
    assert.match(fenced.stdout(), /^token=\d+\n$/, "a fresh token, not the inherited one");
    assert.notEqual(fenced.stdout(), "token=999\n");
  });
});

test("status: a key of another type is reported as not a lock", async () => {
  await withSetup(async ({ cli, server }) => {
    await server.command("HSET", "lock:{job}", "field", "value");
    const text = cli(["status", "job"]);
    const json = cli(["status", "--json", "job"]);
    assert.deepEqual(await Promise.all([text.exited, json.exited]), [0, 0]);
    assert.match(text.stdout(), /state: +not a lock: the key holds a hash/);
    assert.equal(JSON.parse(json.stdout()).type, "hash");
  });
});

test("status: a running holder is not counted as a waiter", async () => {
  await withSetup(async ({ cli, file }) => {
    const holder = cli(["run", "job", "--", "sh", "-c", `touch "$DIR/ready"; ${idleLoop()}`]);
    await until(() => existsSync(file("ready")), "the command runs");
    const status = cli(["status", "--json", "job"]);
    assert.equal(await status.exited, 0);
    const { held, waiters } = JSON.parse(status.stdout());
    assert.deepEqual({ held, waiters }, { held: true, waiters: 0 });
    process.kill(holder.pid, "SIGTERM");
    assert.equal(await holder.exited, 143);
  });
});

test("the command's keys and channels are the library's", () => {
  for (const name of ["job", "a{b}c", "100%", "}{", "ünï côdé"]) {
    const lib = lockKeys(name);
    const cli = cliKeys(name);
    assert.deepEqual([cli.key, cli.fence, cli.channel], [lib.key, lib.fence, lib.channel]);
    assert.equal(cli.revoke, `${lib.key}:revoke`);
    assert.equal(cli.who, lib.who);
  }
});
