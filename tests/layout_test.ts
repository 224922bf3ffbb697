/**
 * The tree shows the architecture, and the imports keep to it: the public
 * locks (lib/lock) use the waits (lib/wait), which use the Redis side
 * (lib/redis), which uses the utilities (lib/util); client adapters
 * (lib/clients) see only the driver interface and the utilities; nothing
 * below the locks imports a client adapter (the lock layer may name the
 * `LockClient` type); the command uses only the public API.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const LAYERS = ["util", "redis", "wait", "lock"]; // each may import the ones before it
const MAX_LINES = 260;

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return files(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** Every relative import of `file`: the imported file (from the root) and whether it is type-only. */
function imports(file: string): Array<{ target: string; typeOnly: boolean }> {
  const source = readFileSync(join(ROOT, file), "utf8").replace(/\/\*\*[\s\S]*?\*\//g, "");
  const found = source.matchAll(
    /^(import|export)( type)?[^"';]*?from "(\.[^"]+)"|^import "(\.[^"]+)"/gm,
  );
  return [...found].map((m) => ({
    target: relative(ROOT, join(ROOT, dirname(file), m[3] ?? m[4])),
    typeOnly: m[2] !== undefined,
  }));
}

const folder = (file: string) => file.split("/")[1];

test("lib/ is one folder per layer, each file about 200 lines at most", () => {
  const layers = new Set(files("lib").filter((f) => f.split("/").length > 2).map(folder));
  assert.deepEqual([...layers].sort(), ["clients", "lock", "redis", "util", "wait"]);
  for (const file of files("lib")) {
    const lines = readFileSync(join(ROOT, file), "utf8").split("\n").length;
    assert.ok(lines <= MAX_LINES, `${file} has ${lines} lines`);
  }
});

test("imports flow one way: lock → wait → redis → util, clients → driver interface and util", () => {
  const wrong: string[] = [];
  for (const file of files("lib").filter((f) => f.split("/").length > 2)) {
    const from = folder(file);
    for (const { target, typeOnly } of imports(file)) {
      const to = folder(target);
      if (to === from) continue;
      const ok = from === "clients"
        ? to === "util" || target === "lib/redis/driver.ts" || target === "lib/redis/_drivers.ts"
        : to === "clients"
        ? from === "lock" && typeOnly
        : LAYERS.indexOf(to) >= 0 && LAYERS.indexOf(to) < LAYERS.indexOf(from);
      if (!ok) wrong.push(`${file} imports ${target}${typeOnly ? " (type)" : ""}`);
    }
  }
  assert.deepEqual(wrong, []);
});
