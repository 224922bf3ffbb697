/**
 * Test harness: a throwaway Redis Cluster of redis-server processes on free
 * loopback ports (3 masters with 1 replica each by default), each node in its
 * own temp dir, created with `redis-cli --cluster create`. `stop()` kills
 * every process and removes the dirs. Never touches the shared server.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCluster as createCluster6 } from "redis";
import { createCluster as createCluster5 } from "redis5";
import { Cluster as Cluster5 } from "ioredis";
import { Cluster as Cluster6 } from "ioredis6";
import type { LockClient, SubscriberEvents } from "../../mod.ts";
import { freePort, launch as launchRedis, rawCommand, type Reply } from "./redis.ts";

/** One redis-server of the cluster. */
export interface ClusterNode {
  readonly port: number;
  readonly url: string;
  /** Runs one command on this node over a fresh connection. */
  command(...args: string[]): Promise<Reply>;
  /** Whether the process still runs. */
  readonly alive: boolean;
}

/** A master and its replicas, as the cluster sees them now. */
export interface Shard {
  readonly master: number;
  readonly replicas: number[];
  /** Slot ranges, inclusive. */
  readonly slots: Array<[number, number]>;
}

/** A running throwaway cluster. */
export interface RedisCluster {
  readonly nodes: readonly ClusterNode[];
  /** The host and port of a live node, for clients' root nodes. */
  readonly host: string;
  readonly port: number;
  /** `redis://host:port` of a live node. */
  readonly url: string;
  /** Runs a command on some live node. */
  command(...args: string[]): Promise<Reply>;
  /** `CLUSTER KEYSLOT key`, asked of the cluster. */
  keyslot(key: string): Promise<number>;
  /** The shards as a live node sees them now. */
  shards(): Promise<Shard[]>;
  /** The node whose port is `port`. */
  node(port: number): ClusterNode;
  /** The port of the master that owns `slot` now. */
  masterOf(slot: number): Promise<number>;
  /** `CLUSTER FAILOVER` on a replica of `slot`'s master; resolves once every node agrees. */
  failover(slot: number): Promise<{ from: number; to: number }>;
  /** SIGKILLs `slot`'s master; resolves once a replica took over and the cluster is ok. */
  killMaster(slot: number): Promise<{ from: number; to: number }>;
  /**
   * Starts the node on `port` again (killed or not) from its nodes.conf; a
   * former master comes back as a replica. Resolves once the cluster is stable.
   */
  restart(port: number): Promise<void>;
  /** Resolves once every live node says `cluster_state:ok` and agrees on the masters. */
  waitStable(timeoutMs?: number): Promise<void>;
  /** Kills every node and removes their dirs. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startCluster}. */
export interface ClusterOptions {
  /** @default {3} */
  masters?: number;
  /** @default {1} */
  replicas?: number;
  /** `cluster-node-timeout` in ms. @default {1000} */
  nodeTimeout?: number;
}

const running = new Set<ChildProcess>();
const dirs = new Set<string>();
let exitHookInstalled = false;

/** Last resort: a test process that exits without stop() leaves no server or dir behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of running) child.kill("SIGKILL");
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
}

async function launch(dir: string, port: number, bus: number, extra: string[]) {
  const cluster = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"];
  const child = await launchRedis(
    port,
    dir,
    [...cluster, "--cluster-port", `${bus}`, ...extra],
    400,
  );
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** A node on free ports (client and cluster bus); retried when a port was taken meanwhile. */
interface Proc {
  child: ChildProcess;
  readonly port: number;
  readonly bus: number;
  readonly dir: string;
}

async function launchNode(extra: string[]): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), "redis-lock-cluster-"));
  dirs.add(dir);
  for (let tries = 0;; tries++) {
    const port = await freePort();
    const bus = await freePort();
    try {
      return { child: await launch(dir, port, bus, extra), port, bus, dir };
    } catch (err) {
      if (tries >= 5 || !/in use|bind/i.test(String(err))) {
        rmSync(dir, { recursive: true, force: true });
        dirs.delete(dir);
        throw err;
      }
    }
  }
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

/** Parses `CLUSTER NODES` into shards (failed nodes left out). */
function parseNodes(text: string): Shard[] {
  const lines = text.trim().split("\n").map((line) => line.trim().split(" "));
  const portOf = (addr: string) => Number(addr.split("@")[0].split(":").pop());
  const masters = new Map<string, Shard>();
  for (const [id, addr, flags, , , , , , ...slots] of lines) {
    if (!flags.includes("master") || flags.includes("fail")) continue;
    const ranges = slots.filter((s) => !s.startsWith("[")).map((s) => {
      const [from, to] = s.split("-").map(Number);
      return [from, to ?? from] as [number, number];
    });
    if (ranges.length) masters.set(id, { master: portOf(addr), replicas: [], slots: ranges });
  }
  for (const [, addr, flags, masterId] of lines) {
    if (flags.includes("slave") && !flags.includes("fail")) {
      masters.get(masterId)?.replicas.push(portOf(addr));
    }
  }
  return [...masters.values()].sort((a, b) => a.slots[0][0] - b.slots[0][0]);
}

/** Runs a command to its end; resolves with its exit code and output. */
async function run(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => output += chunk);
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => output += chunk);
  const [code] = await once(child, "exit");
  return { code: code ?? 1, output };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a cluster; see the module doc. */
export async function startCluster(options: ClusterOptions = {}): Promise<RedisCluster> {
  installExitHook();
  const { masters = 3, replicas = 1, nodeTimeout = 1000 } = options;
  // A replica's first sync starts at once (diskless sync waits 5 s by default).
  const extra = ["--cluster-node-timeout", `${nodeTimeout}`, "--repl-diskless-sync-delay", "0"];
  const launched = await Promise.allSettled(
    Array.from({ length: masters * (1 + replicas) }, () => launchNode(extra)),
  );
  const procs = launched.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  const kill = async () => {
    await Promise.all(procs.map((proc) => killChild(proc.child)));
    for (const { dir } of procs) {
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    }
  };
  const failed = launched.find((r) => r.status === "rejected");
  if (failed) {
    await kill();
    throw (failed as PromiseRejectedResult).reason;
  }
  const nodes: ClusterNode[] = procs.map((proc) => ({
    port: proc.port,
    url: `redis://127.0.0.1:${proc.port}`,
    command: (...args) => rawCommand(proc.port, args),
    get alive() {
      return proc.child.exitCode === null && proc.child.signalCode === null;
    },
  }));
  const node = (port: number) => {
    const found = nodes.find((n) => n.port === port);
    if (!found) throw new Error(`no node on port ${port}`);
    return found;
  };
  const live = () => nodes.filter((n) => n.alive);
  const command = (...args: string[]) => live()[0].command(...args);
  const shards = async () => parseNodes(String(await command("CLUSTER", "NODES")));
  const masterOf = async (slot: number) => {
    const shard = (await shards()).find((s) => s.slots.some(([a, b]) => slot >= a && slot <= b));
    if (!shard) throw new Error(`no master owns slot ${slot}`);
    return shard.master;
  };

  async function waitStable(timeoutMs = 20_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let last = "";
    for (;;) {
      try {
        const views = await Promise.all(
          live().map(async (n) => {
            const info = String(await n.command("CLUSTER", "INFO"));
            const view = parseNodes(String(await n.command("CLUSTER", "NODES")));
            return { ok: info.includes("cluster_state:ok"), view: JSON.stringify(view) };
          }),
        );
        last = JSON.stringify(views);
        const full = JSON.parse(views[0].view) as Shard[];
        const covered = full.reduce(
          (n, s) => n + s.slots.reduce((m, [a, b]) => m + b - a + 1, 0),
          0,
        );
        if (views.every((v) => v.ok && v.view === views[0].view) && covered === 16384) {
          // Replicas are in sync with their masters (a graceful failover needs it).
          const synced = await Promise.all(
            full.flatMap((s) =>
              s.replicas.map(async (port) =>
                String(await node(port).command("INFO", "replication")).includes(
                  "master_link_status:up",
                )
              )
            ),
          );
          if (synced.every(Boolean)) return;
        }
      } catch (err) {
        last = String(err);
      }
      if (performance.now() > deadline) throw new Error(`cluster not stable: ${last}`);
      await delay(50);
    }
  }

  const create = await run("redis-cli", [
    ...["--cluster", "create", ...nodes.map((n) => `127.0.0.1:${n.port}`)],
    ...["--cluster-replicas", `${replicas}`, "--cluster-yes"],
  ]);
  if (create.code !== 0) {
    await kill();
    throw new Error(`redis-cli --cluster create failed:\n${create.output}`);
  }
  try {
    await waitStable(30_000);
  } catch (err) {
    await kill();
    throw err;
  }

  async function waitForMaster(slot: number, port: number): Promise<void> {
    const deadline = performance.now() + 20_000;
    while ((await masterOf(slot).catch(() => 0)) !== port) {
      if (performance.now() > deadline) throw new Error(`${port} did not take slot ${slot}`);
      await delay(50);
    }
  }

  async function shardOf(slot: number): Promise<Shard> {
    const master = await masterOf(slot);
    const shard = (await shards()).find((s) => s.master === master)!;
    if (!shard.replicas.length) throw new Error(`master ${master} has no replica`);
    return shard;
  }

  return {
    nodes,
    host: "127.0.0.1",
    get port() {
      return live()[0].port;
    },
    get url() {
      return live()[0].url;
    },
    command,
    keyslot: async (key) => Number(await command("CLUSTER", "KEYSLOT", key)),
    shards,
    node,
    masterOf,
    waitStable,
    async failover(slot) {
      const { master, replicas: [replica] } = await shardOf(slot);
      await node(replica).command("CLUSTER", "FAILOVER");
      await waitForMaster(slot, replica);
      await waitStable();
      return { from: master, to: replica };
    },
    async killMaster(slot) {
      const { master, replicas: [replica] } = await shardOf(slot);
      await killChild(procs.find((proc) => proc.port === master)!.child);
      await waitForMaster(slot, replica);
      await waitStable();
      return { from: master, to: replica };
    },
    async restart(port) {
      const proc = procs.find((p) => p.port === port)!;
      await killChild(proc.child);
      proc.child = await launch(proc.dir, proc.port, proc.bus, extra);
      await waitStable();
    },
    stop: kill,
  };
}

/** A cluster client library under test, as a lock sees it. */
export interface ClusterKind {
  readonly name: string;
  /** Whether wake-ups use sharded Pub/Sub on Redis 7. */
  readonly sharded: boolean;
  connect(cluster: RedisCluster): Promise<{ client: LockClient; close(): Promise<void> }>;
}

function nodeRedisCluster(name: string, create: typeof createCluster6, RESP?: 3): ClusterKind {
  return {
    name,
    sharded: true,
    async connect(cluster) {
      const options = { rootNodes: [{ url: cluster.url }], RESP };
      const client = create(options as Parameters<typeof createCluster6>[0]);
      client.on("error", () => {}); // failovers are part of some tests
      await client.connect();
      return { client: client as unknown as LockClient, close: () => client.close() };
    },
  };
}

function ioredisCluster(name: string, Cluster: typeof Cluster5, sharded = true): ClusterKind {
  return {
    name,
    sharded,
    async connect({ host, port }) {
      const client = new Cluster([{ host, port }], {
        shardedSubscribers: sharded,
        lazyConnect: true,
      });
      client.on("error", () => {});
      await client.connect();
      return {
        client: client as unknown as LockClient,
        close: async () => void await client.quit().catch(() => client.disconnect()),
      };
    },
  };
}

/** Every cluster client kind the suite runs against. */
export const CLUSTER_KINDS: readonly ClusterKind[] = [
  nodeRedisCluster("node-redis v6 cluster", createCluster6),
  nodeRedisCluster("node-redis v6 cluster RESP3", createCluster6, 3),
  nodeRedisCluster("node-redis v5 cluster", createCluster5 as unknown as typeof createCluster6),
  ioredisCluster("ioredis v5 cluster", Cluster5),
  ioredisCluster("ioredis v6 cluster", Cluster6 as unknown as typeof Cluster5),
];

/** ioredis v5 without `shardedSubscribers`: plain Pub/Sub. */
export const IOREDIS_PLAIN: ClusterKind = ioredisCluster(
  "ioredis v5 cluster, plain Pub/Sub",
  Cluster5,
  false,
);

/** Subscriber events, recorded in order as text ("message <channel> <payload>", "resubscribed", "closed"). */
export function recorder(): { seen: string[]; events: SubscriberEvents } {
  const seen: string[] = [];
  const events: SubscriberEvents = {
    message: (channel, payload) => seen.push(`message ${channel} ${payload}`),
    resubscribed: () => seen.push("resubscribed"),
    closed: () => seen.push("closed"),
  };
  return { seen, events };
}
