/**
 * What the scripts of one contended hand-off cost Redis, apart from any
 * client (issue 16): for `RedisLock`'s fair mode, a waiter's queued attempt
 * (`FAIR_ACQUIRE`) plus the holder's release that hands the lock to it
 * (`RELEASE`, publishing the grant); for the hand-off floor
 * (`bench/compare/floor.ts`), its queued `ACQUIRE` plus its `RELEASE` (which
 * pushes to the waiter's wake list), and, as a second figure, the `LPOP`
 * that stands in for the waiter's `BLPOP` being served. Many lock names run
 * side by side on one connection, so the per-request cost that every
 * command pays (reading, parsing, replying: see the `PING` figure) is
 * shared out and the scripts' own work shows.
 *
 * Prints Redis CPU µs per cycle (one hand-off), per round.
 *
 * Run:  deno run -A bench/script_cost.ts [--rounds 3] [--cycles 50000]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createClient } from "redis";
import { FAIR_ACQUIRE, QUEUE_SLACK_MS, RELEASE } from "../lib/redis/_scripts.ts";
import { lockKeys } from "../lib/redis/_keys.ts";
import { lockSettings } from "../lib/lock/_settings.ts";
import { acquisitionToken } from "../lib/redis/_token.ts";
import { identityTag } from "../lib/util/_identity.ts";
import { FLOOR_SCRIPTS } from "./compare/floor.ts";
import { startRedis } from "../tests/harness/redis.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "3" },
    cycles: { type: "string", default: "50000" },
  },
});
const ROUNDS = Number(values.rounds);
const CYCLES = Number(values.cycles);
const NAMES = 50; // lock names side by side
// `new RedisLock(client, name)`'s lease and hand-off timeout (the floor's lease too).
const { ttl, handoffTimeout } = lockSettings(undefined, { fair: true });
const TTL = `${ttl}`;
const HANDOFF = `${handoffTimeout}`;
const server = await startRedis();
const client = createClient({ url: server.url });
await client.connect();
const send = (args: string[]) => client.sendCommand(args);
const load = async (source: string) => String(await send(["SCRIPT", "LOAD", source]));

async function redisCpuMicros(): Promise<number> {
  const info = await client.info("cpu");
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)![1]);
  return 1e6 * (field("used_cpu_sys") + field("used_cpu_user"));
}

/** A token as `RedisLock` makes it: uuid, process mark, ttl, identity. */
const TAG = identityTag(undefined);
const token = () => acquisitionToken(ttl, false, TAG);

/**
 * Redis CPU per hand-off on NAMES names side by side: each name gets a
 * first holder by `attempt`; then every cycle queues a new token behind the
 * holder (`attempt`) and `handOff` releases the holder's lock to it.
 */
async function perCycle(
  attempt: (name: string, who: string) => Promise<unknown>,
  handOff: (name: string, holder: string, next: string) => Promise<unknown>,
): Promise<number> {
  const tag = crypto.randomUUID().slice(0, 8);
  const names = Array.from({ length: NAMES }, (_, i) => `${tag}${i}`);
  const holders = names.map(() => token());
  await Promise.all(names.map((name, i) => attempt(name, holders[i])));
  const before = await redisCpuMicros();
  await Promise.all(names.map(async (name, i) => {
    let holder = holders[i];
    for (let n = 0; n < CYCLES / NAMES; n++) {
      const next = token();
      await attempt(name, next);
      await handOff(name, holder, next);
      holder = next;
    }
  }));
  return (await redisCpuMicros() - before) / CYCLES;
}

async function ours(): Promise<number> {
  const [acquire, release] = [await load(FAIR_ACQUIRE.source), await load(RELEASE.source)];
  const fair = (name: string) => {
    const { key, fence, queue } = lockKeys(name);
    return [key, fence, queue];
  };
  const slack = `${QUEUE_SLACK_MS}`;
  return await perCycle(
    (name, who) =>
      send(["EVALSHA", acquire, "3", ...fair(name), who, TTL, "0", HANDOFF, "1", slack]),
    (name, holder) => {
      const { racers, channel } = lockKeys(name);
      return send(
        ["EVALSHA", release, "4", ...fair(name), racers, holder, channel, HANDOFF, "PUBLISH"],
      );
    },
  );
}

async function floor(served: boolean): Promise<number> {
  const [acquire, release] = [await load(FLOOR_SCRIPTS.acquire), await load(FLOOR_SCRIPTS.release)];
  const keys = (name: string) => [`{${name}}`, `{${name}}:q`];
  return await perCycle(
    (name, who) => send(["EVALSHA", acquire, "2", ...keys(name), who, TTL]),
    async (name, holder, next) => {
      await send(["EVALSHA", release, "2", ...keys(name), holder, TTL, `{${name}}:w:`]);
      if (served) await send(["LPOP", `{${name}}:w:${next}`]); // the waiter's BLPOP, served
    },
  );
}

async function ping(): Promise<number> {
  const before = await redisCpuMicros();
  for (let i = 0; i < CYCLES / 10; i++) await send(["PING"]);
  return (await redisCpuMicros() - before) / (CYCLES / 10);
}

try {
  console.log("Redis CPU µs: PING (one request, sequential) | per hand-off, names side by side:");
  console.log("floor (2 scripts) | floor + BLPOP served | RedisLock fair (2 scripts)");
  for (let round = 0; round < ROUNDS; round++) {
    const figures = [await ping(), await floor(false), await floor(true), await ours()];
    console.log(figures.map((f) => f.toFixed(1)).join(" | "));
  }
} finally {
  await client.close();
  await server.stop();
}
