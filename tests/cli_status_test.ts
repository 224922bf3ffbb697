// `redis-lock status NAME... [--json] [--watch] [--prefix]`, `--version`, and
// `run --help`'s exit codes, run as separate processes against a real server.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import process from "node:process";
import { withSetup } from "./harness/cli.ts";
import { type Child, runtimeCommand, startChild } from "./harness/process.ts";
import { until } from "./harness/env.ts";
import { RedisLock } from "../mod.ts";
import { createClient } from "redis";

test("status NAME... --json: one line per name, holders and queue in order, across processes", async () => {
  await withSetup(async ({ cli, server }) => {
    const children: Child[] = [];
    const party = (label: string, prefix?: string) => {
      const args = [server.url, "lock", "job", label, "30000", ...(prefix ? [prefix] : [])];
      const child = startChild("fixtures/who_party.ts", args);
      children.push(child);
      return child;
    };
    const client = await createClient({ url: server.url }).connect();
    try {
      const queued = (n: number) =>
        until(
          async () => (await RedisLock.inspect(client as never, "job")).waiters.length === n,
          `${n} queued`,
        );
      const holder = party("A");
      await holder.waitFor("held");
      const b = party("B");
      await queued(1);
      const c = party("C");
      await queued(2);
      const other = party("Z", "app2:");
      await other.waitFor("held");
      const json = cli(["status", "--json", "job", "free"]);
      const text = cli(["status", "job"]);
      const prefixed = cli(["status", "--json", "--prefix", "app2:", "job"]);
      assert.deepEqual(await Promise.all([json.exited, text.exited, prefixed.exited]), [0, 0, 0]);
      const [job, free, ...more] = json.stdout().trimEnd().split("\n").map((line) =>
        JSON.parse(line)
      );
      assert.deepEqual(more, []);
      assert.equal(job.name, "job");
      assert.equal(job.waiters, 2);
      assert.deepEqual(
        job.holders.map((
          h: { identity: { label: string; pid: number } },
        ) => [h.identity.label, h.identity.pid]),
        [["A", holder.process.pid]],
      );
      assert.ok(job.holders[0].leaseLeft > 20_000 && job.holders[0].age >= 0);
      assert.deepEqual(
        job.queue.map((
          w: { identity: { label: string; pid: number } },
        ) => [w.identity.label, w.identity.pid]),
        [["B", b.process.pid], ["C", c.process.pid]],
      );
      assert.ok(job.queue[0].waited >= job.queue[1].waited);
      assert.deepEqual([free.name, free.held, free.holders, free.queue], ["free", false, [], []]);
      const lines = text.stdout().split("\n");
      assert.match(
        lines[2],
        new RegExp(`^holder: +pid ${holder.process.pid} .*"A", held \\d.*s, \\d.*s left$`),
      );
      assert.match(lines[3], /^waiting: +2 waiters$/);
      assert.match(lines[4], new RegExp(`^queue: +1\\. pid ${b.process.pid} .*"B", waiting \\d`));
      assert.match(lines[5], new RegExp(`^ +2\\. pid ${c.process.pid} .*"C", waiting \\d`));
      const [app2] = prefixed.stdout().trimEnd().split("\n").map((line) => JSON.parse(line));
      assert.equal(app2.key, "app2:{job}");
      assert.deepEqual(app2.holders.map((h: { identity: { label: string } }) => h.identity.label), [
        "Z",
      ]);
      assert.deepEqual(app2.queue, []);
    } finally {
      for (const child of children) child.process.kill("SIGKILL");
      await Promise.all(children.map((child) => child.exited));
      await client.close();
    }
  });
});

test("status: bad usage exits 2", async () => {
  await withSetup(async ({ cli }) => {
    const runs = [
      cli(["status"]),
      cli(["status", "job", ""]),
      cli(["status", "--prefix", "a{", "job"]),
    ];
    assert.deepEqual(await Promise.all(runs.map((r) => r.exited)), [2, 2, 2]);
    assert.match(runs[2].stderr(), /--prefix must not contain/);
  });
});

test("--version and -V print the version in cli/deno.json, which equals the library's", async () => {
  await withSetup(async ({ cli }) => {
    const cliVersion =
      JSON.parse(readFileSync(new URL("../cli/deno.json", import.meta.url), "utf8")).version;
    const libVersion =
      JSON.parse(readFileSync(new URL("../deno.json", import.meta.url), "utf8")).version;
    assert.equal(cliVersion, libVersion);
    const runs = [cli(["--version"]), cli(["-V"])];
    assert.deepEqual(await Promise.all(runs.map((r) => r.exited)), [0, 0]);
    for (const run of runs) assert.equal(run.stdout(), `redis-lock ${cliVersion}\n`);
  });
});

test("run --help lists every exit code, 129 for SIGHUP included, in one column", async () => {
  await withSetup(async ({ cli }) => {
    const help = cli(["run", "--help"]);
    assert.equal(await help.exited, 0);
    const text = help.stdout();
    const block = text.slice(text.indexOf("Exit codes:\n") + 12).split("\n\n")[0].split("\n");
    const codes = block.map((line) => line.match(/^ {2}(\S+) +(\S)/));
    assert.ok(codes.every((m) => m !== null), block.join("\n"));
    for (
      const code of ["<code>", "2", "69", "75", "76", "126", "127", "128+n", "129", "130", "143"]
    ) {
      assert.ok(codes.some((m) => m![1] === code), `exit code ${code} is listed`);
    }
    assert.match(text, /129 +SIGHUP/);
    const columns = new Set(block.map((line) => line.search(/(?<=^ {2}\S+ +)\S/)));
    assert.equal(columns.size, 1, `descriptions start in one column:\n${block.join("\n")}`);
  });
});

/**
 * `command` run in a pseudo-terminal, through util-linux `script` (-e: its exit
 * code). `script` runs it with `$SHELL -c`; `exec` makes the command replace that
 * shell, or Ctrl-C would also reach the shell (dash dies of it: exit 130).
 */
function inTerminal(command: string[]): [string, string[]] {
  const quoted = command.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  return ["script", ["-qfec", `exec ${quoted}`, "/dev/null"]];
}

test("status --watch redraws in place on a terminal and exits 0 on Ctrl-C", async () => {
  await withSetup(async ({ server }) => {
    const client = await createClient({ url: server.url }).connect();
    try {
      const [cmd, base] = runtimeCommand("../cli/mod.ts");
      const [term, args] = inTerminal([
        cmd,
        ...base,
        "status",
        "--watch",
        "--url",
        server.url,
        "job",
      ]);
      const child = spawn(term, args, {
        stdio: ["pipe", "pipe", "pipe"],
        env: { ...process.env, TERM: "xterm", SHELL: "/bin/sh" },
      });
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => out += chunk);
      const exited = once(child, "exit");
      const frames = () => out.split("\x1b[H\x1b[2J").length - 1;
      await until(
        () => frames() >= 1 && out.includes("state:          free"),
        "first frame",
        20_000,
      );
      const lock = new RedisLock(client as never, "job", { label: "watched" });
      await lock.lock();
      await until(() => out.includes('"watched"'), "a later frame shows the new holder", 20_000);
      assert.ok(frames() >= 2, `redrawn: ${frames()} frames`);
      child.stdin.write("\x03"); // Ctrl-C, through the terminal
      const [code] = await exited;
      assert.equal(code, 0, out);
      await lock.release();
    } finally {
      await client.close();
    }
  });
});
