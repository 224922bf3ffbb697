/**
 * Uncontended cost: `RedisLock` `acquire()` + `release()` (default options)
 * against a raw `SET key token NX PX 30000` + `EVALSHA` compare-and-delete,
 * one after the other on one connection, same client, nobody else on the
 * name.
 *
 * The two loops alternate in short slices (so that a burst of load from
 * other jobs hits both alike) and each is warmed up first. Per pair: wall
 * µs, client CPU µs, Redis CPU µs and Redis operations (from the same
 * `INFO` counters as the contention runs, read around every slice).
 *
 * @module
 */

import process from "node:process";
import { RedisLock } from "../../mod.ts";
import { type ClientKind, ioRedis, nodeRedis } from "./clients.ts";
import { type CommandCounts, serverCommands, since, type StatsReader } from "./requests.ts";
import { clock } from "./run.ts";

const RELEASE_IF_OWNER =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
const SLICES = 6;
const WARM_UP_PAIRS = 300;

/** The cost of one acquire + release pair. */
export interface PairCost {
  readonly pairs: number;
  /** Wall time per pair. */
  readonly micros: number;
  readonly clientCpuMicros: number;
  readonly redisCpuMicros: number;
  readonly redisOps: number;
}

/** Both loops on one client. */
export interface UncontendedResult {
  readonly client: ClientKind;
  readonly raw: PairCost;
  readonly lock: PairCost;
  /** Pairs per second of `RedisLock` relative to the raw pair (≥ 0.9 is the goal). */
  readonly ratio: number;
}

type Pair = () => Promise<void>;

async function connect(kind: ClientKind, url: string) {
  if (kind === "node-redis") {
    const client = await nodeRedis(url);
    return {
      lock: (name: string) => new RedisLock(client, name),
      call: (args: string[]) => client.sendCommand(args),
      close: () => client.close(),
    };
  }
  const client = await ioRedis(url);
  return {
    lock: (name: string) => new RedisLock(client, name),
    call: ([command, ...args]: string[]) => client.call(command, ...args),
    close: async () => void await client.quit(),
  };
}

interface Tally {
  pairs: number;
  ms: number;
  cpu: number;
  redis: CommandCounts[];
}

/** Runs `pair` for `ms`, adding to `tally`. */
async function slice(pair: Pair, ms: number, reader: StatsReader, tally: Tally): Promise<void> {
  const before = await reader.read();
  const cpu = process.cpuUsage();
  const start = clock();
  const end = start + ms;
  let n = 0;
  while (clock() < end) {
    await pair();
    n++;
  }
  const stop = clock();
  const { user, system } = process.cpuUsage(cpu);
  tally.redis.push(since(before, await reader.read()));
  tally.pairs += n;
  tally.ms += stop - start;
  tally.cpu += user + system;
}

function cost(t: Tally): PairCost {
  const redisCpu = t.redis.reduce((s, c) => s + c.cpuSeconds, 0) * 1e6;
  const ops = t.redis.reduce((s, c) => s + serverCommands(c), 0);
  return {
    pairs: t.pairs,
    micros: (t.ms * 1000) / t.pairs,
    clientCpuMicros: t.cpu / t.pairs,
    redisCpuMicros: redisCpu / t.pairs,
    redisOps: ops / t.pairs,
  };
}

/** Measures both loops on `kind` for `seconds` each. */
export async function uncontended(
  kind: ClientKind,
  url: string,
  reader: StatsReader,
  seconds: number,
): Promise<UncontendedResult> {
  const conn = await connect(kind, url);
  try {
    const prefix = `compare:uncontended:${kind}:${Date.now().toString(36)}`;
    const lock = conn.lock(`${prefix}:lock`);
    const key = `${prefix}:raw`;
    const sha = String(await conn.call(["SCRIPT", "LOAD", RELEASE_IF_OWNER]));
    const raw: Pair = async () => {
      const token = crypto.randomUUID();
      if (await conn.call(["SET", key, token, "NX", "PX", "30000"]) !== "OK") {
        throw new Error("raw SET NX failed");
      }
      if (Number(await conn.call(["EVALSHA", sha, "1", key, token])) !== 1) {
        throw new Error("raw delete failed");
      }
    };
    const ours: Pair = async () => {
      if (!(await lock.acquire())) throw new Error("RedisLock: not acquired");
      await lock.release();
    };
    for (let i = 0; i < WARM_UP_PAIRS; i++) {
      await raw();
      await ours();
    }
    const tallies = [raw, ours].map((): Tally => ({ pairs: 0, ms: 0, cpu: 0, redis: [] }));
    for (let s = 0; s < SLICES; s++) {
      await slice(raw, (seconds * 1000) / SLICES, reader, tallies[0]);
      await slice(ours, (seconds * 1000) / SLICES, reader, tallies[1]);
    }
    const [rawCost, lockCost] = tallies.map(cost);
    return { client: kind, raw: rawCost, lock: lockCost, ratio: rawCost.micros / lockCost.micros };
  } finally {
    await conn.close();
  }
}
