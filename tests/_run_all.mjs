// Runs the whole test suite on every runtime (Deno, Bun, Node) and ends with
// one line "N passed, N failed" that sums them. Exit code 1 if anything failed
// or a runtime ran no test. Usage: node tests/_run_all.mjs [deno|bun|node ...]
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

// Deno and Bun are pinned in .tools/ (installed by the root package's postinstall).
const bin = (name) => {
  for (const dir of [".tools/node_modules/.bin", "node_modules/.bin"]) {
    if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return name;
};
const testFiles = readdirSync("tests").filter((f) => f.endsWith("_test.ts")).map((f) =>
  `tests/${f}`
);
// deno check takes Markdown files one by one (a folder argument skips them).
const markdownDocs = readdirSync("docs").filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`);
const ESC = String.fromCharCode(27);
const strip = (text) => text.replaceAll(new RegExp(`${ESC}\\[[0-9;]*m`, "g"), "");

const RUNTIMES = {
  // Formatting, lint, type check and the JSR publish check, one "test" each.
  static: {
    steps: [
      [bin("deno"), "fmt", "--check"],
      [bin("deno"), "lint"],
      [bin("deno"), "check", "--doc", "mod.ts", "lib/", "cli/", "bench/"],
      // Every ```ts block of the README and docs/ (shell blocks are not checked).
      [bin("deno"), "check", "--doc-only", "README.md", ...markdownDocs],
      [
        bin("deno"),
        "doc",
        "--lint",
        "mod.ts",
        "lib/clients/node_redis.ts",
        "lib/clients/ioredis.ts",
        "lib/clients/bun_redis.ts",
        "lib/clients/node_redis_cluster.ts",
        "lib/clients/ioredis_cluster.ts",
        "cli/mod.ts",
      ],
      // Both packages of the workspace: the library, and the command in cli/.
      [bin("deno"), "publish", "--dry-run", "--allow-dirty"],
      [bin("deno"), "publish", "--dry-run", "--allow-dirty", "--config", "cli/deno.json"],
    ],
  },
  deno: {
    cmd: [bin("deno"), "test", "-A", "--parallel", "tests/"],
    count: (out) => {
      const m = strip(out).match(/(\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/);
      return m && [Number(m[1]), Number(m[2])];
    },
    // Deno lists failures after "FAILURES" as "name => file:line".
    failures: (out) => {
      const tail = strip(out).split(/^\s*FAILURES\s*$/m)[1] ?? "";
      return tail.split("\n").filter((line) => line.includes(" => "));
    },
  },
  bun: {
    // Two worker processes, as Deno's --parallel and Node's concurrency do.
    cmd: [bin("bun"), "test", "--parallel=2", "--timeout", "60000", "tests/"],
    count: (out) => {
      const pass = strip(out).match(/^\s*(\d+) pass$/m);
      const fail = strip(out).match(/^\s*(\d+) fail$/m);
      return pass && fail && [Number(pass[1]), Number(fail[1])];
    },
    failures: (out) => strip(out).split("\n").filter((line) => line.startsWith("(fail) ")),
  },
  node: {
    // Two files at a time, as Deno does (node defaults to one on 2 cores).
    cmd: ["node", "--import", "tsx", "--test", "--test-concurrency=2", ...testFiles],
    count: (out) => {
      const pass = out.match(/^# pass (\d+)$/m);
      const fail = out.match(/^# fail (\d+)$/m);
      return pass && fail && [Number(pass[1]), Number(fail[1])];
    },
    failures: (out) => out.split("\n").filter((line) => /^not ok \d+ /.test(line)),
  },
};

function run(name, { cmd }) {
  return new Promise((resolve) => {
    console.log(`\n=== ${name}: ${cmd.join(" ")}`);
    const child = spawn(cmd[0], cmd.slice(1), {
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const echo = (stream) => (chunk) => {
      out += chunk;
      stream.write(chunk);
    };
    child.stdout.on("data", echo(process.stdout));
    child.stderr.on("data", echo(process.stderr));
    child.on("error", (err) => resolve({ out: String(err), code: 1 }));
    child.on("close", (code) => resolve({ out, code }));
  });
}

const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(RUNTIMES);
let passed = 0;
let failed = 0;
const summary = [];
for (const name of wanted) {
  const runtime = RUNTIMES[name];
  if (!runtime) throw new Error(`unknown runtime ${name}; known: ${Object.keys(RUNTIMES)}`);
  if (runtime.steps) {
    let ok = 0;
    for (const cmd of runtime.steps) if ((await run(name, { cmd })).code === 0) ok++;
    passed += ok;
    failed += runtime.steps.length - ok;
    summary.push(`${name}: ${ok} passed, ${runtime.steps.length - ok} failed`);
    continue;
  }
  const { out, code } = await run(name, runtime);
  const counts = runtime.count(out) ?? [0, 0];
  // A runtime that crashed or ran nothing counts as one failure.
  const broken = (code !== 0 && counts[1] === 0) || counts[0] + counts[1] === 0 ? 1 : 0;
  passed += counts[0];
  failed += counts[1] + broken;
  summary.push(`${name}: ${counts[0]} passed, ${counts[1] + broken} failed (exit ${code})`);
  // Name what failed next to the totals, so the tail of a CI log is enough.
  const named = new Set(runtime.failures(out).map((line) => line.trim())); // Bun prints each twice
  for (const line of named) summary.push(`  ${name} failed: ${line}`);
}
console.log(`\n${summary.join("\n")}`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
