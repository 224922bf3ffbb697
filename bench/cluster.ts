/**
 * Throughput on Redis Cluster against one redis-server, in the same run:
 * 32 contenders (each its own node-redis client) take and release locks
 * spread over 64 names for a few seconds, first on one redis-server (the
 * baseline), then on a 3-master cluster with 1 replica each (sharded
 * Pub/Sub). Prints acquisitions per second, the ratio, and where the CPU
 * went: this process against the Redis servers (`INFO cpu`).
 *
 * Then the cost of a replica acknowledgement: the latency of an uncontended
 * acquire alone, and followed by `WAIT 1 100` on the same node, on the cluster.
 *
 * Throwaway servers on free ports (never the shared one), stopped at the end.
 *
 * Run:  deno run -A bench/cluster.ts [seconds per case, default 4]
 */

import process from "node:process";
import { createClient, createCluster } from "redis";
import { type LockClient, RedisLock } from "../mod.ts";
import { type RedisCluster, startCluster } from "../tests/harness/cluster.ts";
import { startRedis } from "../tests/harness/redis.ts";
import { lockKeys } from "../lib/redis/_keys.ts";

const SECONDS = Number(process.argv[2] ?? Deno.args[0] ?? 4);
const NAMES = Array.from({ length: 64 }, (_, i) => `bench:${i}`);
const CONTENDERS = 32;
const WARMUP_MS = 1_500; // past the first waits, which also open the subscriber connections

type Client = { client: LockClient; close(): Promise<unknown> };
type CpuOf = () => Promise<number>;

interface Result {
  readonly perSecond: number;
  /** Acquisitions that waited 500 ms or more. */
  readonly stalls: number;
  readonly clientCpu: number;
  readonly serverCpu: number[];
}

/** Seconds of CPU a redis-server has used so far (main thread and children). */
async function serverCpu(command: (...args: string[]) => Promise<unknown>): Promise<number> {
  const info = String(await command("INFO", "cpu"));
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return field("used_cpu_sys") + field("used_cpu_user");
}

/** 32 contenders on their own clients, random names, for SECONDS after a warm-up. */
async function contend(clients: Client[], servers: CpuOf[], fair: boolean): Promise<Result> {
  let count = 0;
  let stalls = 0;
  const started = performance.now() + WARMUP_MS;
  const end = started + SECONDS * 1000;
  const loops = clients.map(async ({ client }) => {
    while (performance.now() < end) {
      const name = NAMES[Math.floor(Math.random() * NAMES.length)];
      const lock = new RedisLock(client, name, { fair });
      const asked = performance.now();
      if (!(await lock.acquire({ blockingTimeout: 10_000 }))) throw new Error("not acquired");
      const at = performance.now();
      if (at >= started && at < end) {
        count++;
        if (at - asked >= 500) stalls++;
      }
      await lock.release();
    }
  });
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  const cpu = process.cpuUsage();
  const before = await Promise.all(servers.map((s) => s()));
  await new Promise((resolve) => setTimeout(resolve, end - performance.now()));
  const used = process.cpuUsage(cpu);
  const after = await Promise.all(servers.map((s) => s()));
  const wall = (performance.now() - started) / 1000;
  await Promise.all(loops);
  return {
    perSecond: count / SECONDS,
    stalls,
    clientCpu: (used.user + used.system) / 1e6 / wall,
    serverCpu: after.map((a, i) => (a - before[i]) / wall),
  };
}

const pct = (share: number) => `${(share * 100).toFixed(0)}%`;

function report(label: string, r: Result, names: string[]): void {
  const servers = r.serverCpu.map((s, i) => `${names[i]} ${pct(s)}`).join(" ");
  const total = r.serverCpu.reduce((a, b) => a + b, 0);
  const perAcq = (cpu: number) => `${(cpu / r.perSecond * 1e6).toFixed(0)} µs`;
  console.log(
    `${label.padEnd(28)} ${
      r.perSecond.toFixed(0).padStart(6)
    } acq/s, ${r.stalls} waits >= 500 ms\n` +
      `${"".padEnd(30)}CPU: this process ${pct(r.clientCpu)} (${perAcq(r.clientCpu)}/acq), ` +
      `Redis ${pct(total)} (${perAcq(total)}/acq; ${servers})`,
  );
}

async function connectAll(connect: () => Promise<Client>): Promise<Client[]> {
  return await Promise.all(Array.from({ length: CONTENDERS }, connect));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Uncontended acquire latency on the cluster, alone and followed by WAIT 1 100, interleaved. */
async function waitCost(cluster: RedisCluster): Promise<void> {
  const client = await createCluster({ rootNodes: [{ url: cluster.url }] }).connect();
  const plain: number[] = [];
  const waited: number[] = [];
  try {
    for (let i = 0; i < 3_000; i++) {
      const name = NAMES[i % NAMES.length];
      const withWait = i % 2 === 1;
      const lock = new RedisLock(client as unknown as LockClient, name, { autoExtend: false });
      const node = await client.getNodeClientForKey(lockKeys(name).key);
      const started = performance.now();
      if (!(await lock.acquire({ blocking: false }))) throw new Error("not acquired");
      // WAIT must go to the node (and connection) that took the write;
      // cluster.sendCommand() would send it to every master.
      if (withWait && Number(await node.sendCommand(["WAIT", "1", "100"])) !== 1) {
        throw new Error("WAIT: the replica did not acknowledge within 100 ms");
      }
      if (i >= 200) (withWait ? waited : plain).push(performance.now() - started);
      await lock.release();
    }
  } finally {
    await client.close();
  }
  const mean = (t: number[]) => t.reduce((a, b) => a + b, 0) / t.length;
  for (const [label, t] of [["acquire", plain], ["acquire + WAIT 1 100", waited]] as const) {
    t.sort((a, b) => a - b);
    console.log(
      `${label.padEnd(26)} p50 ${percentile(t, 0.5).toFixed(3)} ms, p99 ${
        percentile(t, 0.99).toFixed(3)
      } ms, mean ${mean(t).toFixed(3)} ms`,
    );
  }
  console.log(
    `WAIT 1 100 adds ${(mean(waited) - mean(plain)).toFixed(3)} ms ` +
      `(${(mean(waited) / mean(plain)).toFixed(2)}x) to an uncontended acquire`,
  );
}

const single = await startRedis();
let cluster: RedisCluster | undefined;
try {
  cluster = await startCluster();
  const c = cluster;
  console.log(
    `${CONTENDERS} contenders (own clients), ${NAMES.length} names, ${SECONDS} s per case, ` +
      `node-redis; ${navigator.hardwareConcurrency} CPUs\n`,
  );

  const singleClients = await connectAll(async () => {
    const client = await createClient({ url: single.url }).connect();
    return { client, close: () => client.close() };
  });
  const shards = await c.shards();
  const clusterClients = await connectAll(async () => {
    const client = await createCluster({ rootNodes: [{ url: c.url }] }).connect();
    return { client: client as unknown as LockClient, close: () => client.close() };
  });
  const ports = shards.flatMap((s) => [s.master, ...s.replicas]);
  const roles = shards.flatMap((s, i) => [`m${i + 1}`, ...s.replicas.map(() => `r${i + 1}`)]);
  const singleCpu = [() => serverCpu(single.command)];
  const clusterCpu = ports.map((port) => () => serverCpu(c.node(port).command));
  for (const fair of [true, false]) {
    console.log(fair ? "fair: true (RedisLock's default)" : "fair: false");
    const one = await contend(singleClients, singleCpu, fair);
    report("  1 redis-server (baseline)", one, ["server"]);
    const three = await contend(clusterClients, clusterCpu, fair);
    report("  cluster, 3 masters", three, roles);
    console.log(`  cluster / 1 server: ${(three.perSecond / one.perSecond).toFixed(2)}x\n`);
  }
  await Promise.all([...singleClients, ...clusterClients].map((c) => c.close()));

  await waitCost(c);
} finally {
  await cluster?.stop();
  await single.stop();
}
