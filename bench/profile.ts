/**
 * The client hot path under a profiler (issue 16): `RedisLock` acquire +
 * release in a loop on a throwaway redis-server, uncontended (one lock, one
 * client, no signal: as `bench/compare/uncontended.ts`) or contended (N
 * contenders in this process, each on its own client, 0 ms hold, with a
 * signal: as the comparison's in-process cells). Prints acquisitions per
 * second and client CPU µs per acquisition (`process.cpuUsage`).
 *
 * `--mode raw` runs the uncontended baseline instead: `SET NX PX` +
 * `EVALSHA` compare-and-delete on one client.
 *
 * Run:  deno run -A bench/profile.ts [--mode uncontended|contended|raw]
 *         [--client node-redis|ioredis] [--contenders 8] [--seconds 3]
 *         [--cpu-prof DIR]
 *       node --import tsx bench/profile.ts …   (or `node --cpu-prof …`)
 *
 * `--cpu-prof DIR` writes a V8 `.cpuprofile` of the measured window to DIR
 * through `node:inspector` (Deno has no `--cpu-prof` flag; the inspector
 * session works on Deno, Node and Bun alike).
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { writeFileSync } from "node:fs";
import { RedisLock } from "../mod.ts";
import { startRedis } from "../tests/harness/redis.ts";
import { type ClientKind, ioRedis, nodeRedis } from "./compare/clients.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    mode: { type: "string", default: "uncontended" },
    client: { type: "string", default: "node-redis" },
    contenders: { type: "string", default: "8" },
    seconds: { type: "string", default: "3" },
    "cpu-prof": { type: "string" },
  },
});
const kind = values.client as ClientKind;
const seconds = Number(values.seconds);
const contended = values.mode === "contended";
const raw = values.mode === "raw";
const contenders = contended ? Number(values.contenders) : 1;

type Pair = () => Promise<void>;

/** One contender: an acquire + release pair on its own client, and how to close it. */
async function open(
  url: string,
  signal: AbortSignal | undefined,
): Promise<[Pair, () => Promise<void>]> {
  const options = signal ? { signal } : undefined;
  const [client, close] = kind === "node-redis"
    ? await nodeRedis(url).then((c) => [c, () => c.close()] as const)
    : await ioRedis(url).then((c) => [c, async () => void await c.quit()] as const);
  const lock = new RedisLock(client, "profile");
  const pair = async () => {
    if (!(await lock.acquire(options))) throw new Error("not acquired");
    await lock.release();
  };
  return [raw ? await rawPair(client) : pair, close];
}

const RELEASE_IF_OWNER =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/** The baseline of `bench/compare/uncontended.ts`: `SET NX PX` + `EVALSHA` compare-and-delete. */
async function rawPair(client: unknown): Promise<Pair> {
  const call = kind === "ioredis"
    ? ([command, ...args]: string[]) =>
      (client as Awaited<ReturnType<typeof ioRedis>>).call(command, ...args)
    : (args: string[]) => (client as Awaited<ReturnType<typeof nodeRedis>>).sendCommand(args);
  const sha = String(await call(["SCRIPT", "LOAD", RELEASE_IF_OWNER]));
  return async () => {
    const token = crypto.randomUUID();
    if (await call(["SET", "raw", token, "NX", "PX", "30000"]) !== "OK") throw new Error("SET");
    if (Number(await call(["EVALSHA", sha, "1", "raw", token])) !== 1) throw new Error("DEL");
  };
}

/** Runs `pair` until `end` (performance.now() ms); counts acquisitions. */
async function loop(pair: Pair, end: number): Promise<number> {
  let n = 0;
  while (performance.now() < end) {
    await pair();
    n++;
  }
  return n;
}

async function profiler(dir: string | undefined) {
  if (!dir) return async () => {};
  const { Session } = await import("node:inspector");
  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (err: unknown, r: unknown) => err ? reject(err) : resolve(r))
    );
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 100 });
  await post("Profiler.start");
  return async () => {
    const { profile } = await post("Profiler.stop") as { profile: unknown };
    const file = `${dir}/${values.mode}-${kind}-${Date.now()}.cpuprofile`;
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    console.log(`profile: ${file}`);
  };
}

const server = await startRedis();
try {
  const signal = contended ? new AbortController().signal : undefined;
  const opened = await Promise.all(
    Array.from({ length: contenders }, () => open(server.url, signal)),
  );
  const pairs = opened.map(([pair]) => pair);
  await Promise.all(pairs.map((pair) => loop(pair, performance.now() + 500))); // warm-up
  const stop = await profiler(values["cpu-prof"]);
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  const counts = await Promise.all(pairs.map((pair) => loop(pair, end)));
  const elapsed = performance.now() - start;
  const { user, system } = process.cpuUsage(cpu);
  await stop();
  const total = counts.reduce((a, b) => a + b, 0);
  const label = contended ? `contended C=${contenders}` : values.mode;
  console.log(
    `${label} ${kind}: ${Math.round(total / (elapsed / 1000))} acq/s, ` +
      `client CPU ${((user + system) / total).toFixed(1)} µs/acq (${total} acquisitions)`,
  );
  await Promise.all(opened.map(([, close]) => close()));
} finally {
  await server.stop();
}
