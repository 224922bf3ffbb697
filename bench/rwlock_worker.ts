/**
 * One process of the read-mostly bench (`bench/rwlock.ts`): `readers`
 * readers and `writers` writers, each on its own connection, loop on one
 * lock for `duration` ms after the go signal (`bench:go` set in Redis),
 * holding `hold` ms each time. Prints one JSON line: reads, writes and each
 * write's wait (ms from the call to holding).
 *
 * Usage: rwlock_worker.ts <url> <rw|mutex> <readers> <writers> <duration-ms> <hold-ms>
 */

import process from "node:process";
import { createClient } from "redis";
import { RedisLock, RedisReadWriteLock } from "../mod.ts";

const [url, kind, readers, writers, duration, hold] = process.argv.slice(2);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const connect = async () => {
  const client = createClient({ url });
  client.on("error", () => {});
  return await client.connect();
};
const clients = await Promise.all(
  Array.from({ length: Number(readers) + Number(writers) }, connect),
);
const holdMs = Number(hold);
/** Runs `fn` under the lock: the read or write side, or a plain lock (the baseline). */
function guard(client: (typeof clients)[number], side: "read" | "write") {
  if (kind === "mutex") {
    const lock = () => new RedisLock(client, "bench:rw");
    return (fn: () => Promise<void>) => lock().run(fn);
  }
  const rw = new RedisReadWriteLock(client, "bench:rw");
  return (fn: () => Promise<void>) => (side === "read" ? rw.readLock() : rw.writeLock()).run(fn);
}
console.log("ready");
while (await clients[0].get("bench:go") === null) await sleep(5);
const end = performance.now() + Number(duration);
let reads = 0;
const waits: number[] = [];
const loops = clients.map(async (client, i) => {
  const writing = i >= Number(readers);
  const run = guard(client, writing ? "write" : "read");
  while (performance.now() < end) {
    const called = performance.now();
    await run(async () => {
      if (writing) waits.push(performance.now() - called);
      await sleep(holdMs);
    });
    if (!writing) reads++;
  }
});
await Promise.all(loops);
console.log(JSON.stringify({ reads, writes: waits.length, waits }));
await Promise.all(clients.map((c) => c.close()));
process.exit(0);
