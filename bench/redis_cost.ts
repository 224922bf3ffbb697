/**
 * What one acquisition costs Redis, for an A/B of two checkouts of this
 * package: `RedisLock` acquire + release looped by N contenders (each its
 * own node-redis client) in this process for S seconds against a throwaway
 * redis-server; prints one JSON line: acquisitions/s, Redis CPU µs per
 * acquisition (`INFO cpu`), Redis commands per acquisition (`INFO
 * commandstats`, Lua's inner calls included). Run it alternately on the two
 * checkouts to see a change's cost through the machine's noise.
 *
 * Run:  deno run -A bench/redis_cost.ts <checkout dir> [contenders=1] [seconds=3] [identity]
 *
 * `identity` (`on` or `off`) sets the lock's `identity` option (checkouts
 * from issue 19 on); without it the lock takes its default.
 *
 * @module
 */

import { createClient } from "redis";

const [root = new URL("..", import.meta.url).pathname, n = "1", secs = "3", identity] = Deno.args;
const { startRedis } = await import(`${root}/tests/harness/redis.ts`);
const { RedisLock } = await import(`${root}/mod.ts`);
const server = await startRedis();
const clients = await Promise.all(
  Array.from({ length: Number(n) }, () => createClient({ url: server.url }).connect()),
);
const options = identity === undefined ? {} : { identity: identity === "on" };
const locks = clients.map((c) => new RedisLock(c, "x", options));
for (const lock of locks) await (await lock.lock()).release(); // scripts loaded, channels warm
const info = async (section: string) => String(await server.command("INFO", section));
const cpu = (text: string) =>
  text.split("\n").filter((l) => /^used_cpu_(sys|user):/.test(l))
    .reduce((sum, l) => sum + Number(l.split(":")[1]), 0);
const calls = (text: string) =>
  text.split("\n").filter((l) => l.startsWith("cmdstat_"))
    .reduce((sum, l) => sum + Number(l.match(/calls=(\d+)/)![1]), 0);
await server.command("CONFIG", "RESETSTAT");
const cpuBefore = cpu(await info("cpu"));
const started = performance.now();
const stop = started + Number(secs) * 1000;
let acquisitions = 0;
await Promise.all(locks.map(async (lock) => {
  while (performance.now() < stop) {
    await lock.lock();
    acquisitions++;
    await lock.release();
  }
}));
const seconds = (performance.now() - started) / 1000;
const redisCpu = cpu(await info("cpu")) - cpuBefore;
const commands = calls(await info("commandstats"));
console.log(JSON.stringify({
  acqPerS: Math.round(acquisitions / seconds),
  redisUsPerAcq: Number((redisCpu * 1e6 / acquisitions).toFixed(1)),
  commandsPerAcq: Number((commands / acquisitions).toFixed(1)),
}));
await Promise.all(clients.map((c) => c.close()));
await server.stop();
