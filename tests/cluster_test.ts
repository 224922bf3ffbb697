import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createClient, createCluster } from "redis";
import { Cluster, Redis } from "ioredis";
import { type LockClient, type RedisDriver, RedisLock, RedisSpinLock } from "../mod.ts";
import { CONFIRM_MS } from "../lib/clients/_cluster_pubsub.ts";
import { resolveDriver } from "../lib/clients/lock_client.ts";
import { lockKeys } from "../lib/redis/_keys.ts";
import {
  CLUSTER_KINDS,
  type ClusterKind,
  type ClusterNode,
  IOREDIS_PLAIN,
  recorder,
  type RedisCluster,
  startCluster,
} from "./harness/cluster.ts";
import { delay, until } from "./harness/env.ts";
import { asleep, modeNamed, tracked } from "./harness/fault_modes.ts";
import type { Reply } from "./harness/redis.ts";

// One cluster for the whole file, started by the first test that needs it.
let shared: Promise<RedisCluster> | undefined;
const cluster = () => shared ??= startCluster();
after(async () => await (await shared?.catch(() => undefined))?.stop());

interface Env {
  readonly cluster: RedisCluster;
  /** A lock name of this test and client kind only. */
  readonly name: string;
  /** A new connected cluster client of the kind under test, closed after the test. */
  client(): Promise<LockClient>;
}

const kinds = (...names: string[]) => CLUSTER_KINDS.filter((k) => names.includes(k.name));
/** The clients of the failover tests: node-redis v5 only where it survives (see the README). */
const FAILOVER_KINDS = kinds(
  "node-redis v6 cluster",
  "node-redis v5 cluster",
  "ioredis v5 cluster",
);
const KILL_KINDS = kinds("node-redis v6 cluster", "ioredis v5 cluster");

function eachKind(
  title: string,
  fn: (env: Env) => Promise<void>,
  kinds: readonly ClusterKind[] = CLUSTER_KINDS,
  timeout = 30_000,
): void {
  for (const kind of kinds) {
    test(`${kind.name}: ${title}`, { timeout }, async () => {
      const closers: Array<() => Promise<void>> = [];
      const env: Env = {
        cluster: await cluster(),
        name: `${title.split(" ").slice(0, 3).join("-")}:${kind.name}`,
        async client() {
          const { client, close } = await kind.connect(env.cluster);
          closers.push(close);
          return client;
        },
      };
      try {
        await fn(env);
      } finally {
        await Promise.allSettled(closers.map((close) => close()));
      }
    });
  }
}

/**
 * Subscriptions waiting on the lock whose channel is `channel` (its own and
 * every process's hand-off channel `<channel>:<mark>`) over all live nodes:
 * sharded (`SHARDNUMSUB`) or plain (`NUMSUB`).
 */
async function subscribers(c: RedisCluster, channel: string, sharded = true): Promise<number> {
  let n = 0;
  for (const node of c.nodes.filter((node) => node.alive)) {
    const list = sharded ? "SHARDCHANNELS" : "CHANNELS";
    const grants = await node.command("PUBSUB", list, `${channel}:*`) as string[];
    const count = sharded ? "SHARDNUMSUB" : "NUMSUB";
    const reply = await node.command("PUBSUB", count, channel, ...grants) as Reply[];
    for (let i = 1; i < reply.length; i += 2) n += Number(reply[i]);
  }
  return n;
}

/** Runs a command on the master that owns `key` now. */
async function onOwner(c: RedisCluster, key: string, ...args: string[]): Promise<Reply> {
  return await c.node(await c.masterOf(await c.keyslot(key))).command(...args);
}

/** A holder on client `a` releases; the gap in ms until a subscribed waiter on `b` has the lock. */
async function wakeGap(
  c: RedisCluster,
  a: LockClient,
  b: LockClient,
  name: string,
  sharded = true,
) {
  const holder = new RedisLock(a, name);
  const waiter = new RedisLock(b, name);
  await holder.lock();
  const acquired = waiter.acquire({ blockingTimeout: 10_000 });
  await until(async () => await subscribers(c, lockKeys(name).channel, sharded) > 0, "subscribed");
  const releasedAt = performance.now();
  await holder.release();
  assert.equal(await acquired, true);
  const gap = performance.now() - releasedAt;
  await waiter.release();
  return gap;
}

test("a cluster client resolves to its cluster adapter, a single-node client does not", () => {
  const url = "redis://127.0.0.1:1";
  const clusters = [
    createCluster({ rootNodes: [{ url }] }),
    new Cluster([{ host: "127.0.0.1", port: 1 }], { lazyConnect: true }),
  ];
  for (const client of clusters) {
    assert.ok("sharded" in resolveDriver(client as unknown as LockClient));
  }
  const single = [createClient({ url }), new Redis({ port: 1, lazyConnect: true })];
  for (const client of single) {
    assert.equal("sharded" in resolveDriver(client as unknown as LockClient), false);
  }
});

test("every key and the channel of a lock share one slot on the cluster, for hostile names", async () => {
  const c = await cluster();
  const names = ["{", "}", "{}", "}{", "{a}", "a{b}c", "{{x}}", "x}y{z", "%7B", "%", "*", " { } "];
  names.push("a\nb", "ключ{}", "a\u0000{b}", "{".repeat(300), "lock:{x}:wake");
  const slots = new Set<number>();
  for (const name of names) {
    const { key, fence, queue, racers, channel, grants } = lockKeys(name);
    const all = [key, fence, queue, racers, channel, grants];
    const got = await Promise.all(all.map((k) => c.keyslot(k)));
    assert.equal(new Set(got).size, 1, `${JSON.stringify(name)}: slots ${got}`);
    slots.add(got[0]);
  }
  assert.ok(slots.size > names.length / 2, "names with braces do not collapse into few slots");
  // Two names that differ only outside their braces get different tags.
  assert.notEqual(await c.keyslot(lockKeys("{a}x").key), await c.keyslot(lockKeys("{a}y").key));
});

eachKind("hostile names lock, fence, queue and release without CROSSSLOT", async (env) => {
  const client = await env.client();
  for (const name of ["{", "}{", "a{b}c", "{{x}}", "%7B", "a\u0000{b}", "ключ{}"]) {
    const lock = new RedisLock(client, `${env.name}${name}`, { fair: true, fencing: true });
    await lock.lock({ blockingTimeout: 5_000 });
    assert.equal(await lock.owned(), true);
    assert.ok(lock.fencingToken! >= 1);
    await lock.release();
    const spin = new RedisSpinLock(client, `${env.name}${name}`);
    await spin.lock({ blockingTimeout: 5_000 });
    await spin.release();
  }
}, kinds("node-redis v6 cluster", "ioredis v5 cluster"));

eachKind("several contenders on their own connections exclude each other", async (env) => {
  let inside = 0;
  let most = 0;
  let entries = 0;
  const clients = await Promise.all(Array.from({ length: 5 }, () => env.client()));
  await Promise.all(clients.map(async (client) => {
    for (let round = 0; round < 3; round++) {
      await new RedisLock(client, env.name).run(async () => {
        most = Math.max(most, ++inside);
        entries++;
        await delay(3);
        inside--;
      }, { blockingTimeout: 20_000 });
    }
  }));
  assert.equal(most, 1);
  assert.equal(entries, 15);
  assert.equal(
    await onOwner(env.cluster, lockKeys(env.name).key, "EXISTS", lockKeys(env.name).key),
    0,
  );
});

eachKind("a release wakes a waiter by sharded Pub/Sub within 500 ms", async (env) => {
  const { key, channel, grants } = lockKeys(env.name);
  const holder = new RedisLock(await env.client(), env.name);
  const waiterClient = await env.client();
  await holder.lock();
  const acquired = new RedisLock(waiterClient, env.name).acquire({ blockingTimeout: 10_000 });
  await until(async () => await subscribers(env.cluster, channel) > 0, "subscribed");
  // This process's hand-off channel, on the master of the lock's slot, and
  // sharded: no plain subscription anywhere.
  assert.deepEqual(await onOwner(env.cluster, key, "PUBSUB", "SHARDNUMSUB", grants), [grants, 1]);
  assert.equal(await subscribers(env.cluster, channel, false), 0);
  assert.equal(resolveDriver(waiterClient).sharded, true);
  const releasedAt = performance.now();
  await holder.release();
  assert.equal(await acquired, true);
  const gap = performance.now() - releasedAt;
  assert.ok(gap < 500, `woken ${gap.toFixed(0)} ms after the release`);
  await until(async () => await subscribers(env.cluster, channel) === 0, "unsubscribed");
});

eachKind("ioredis without shardedSubscribers falls back to plain Pub/Sub", async (env) => {
  const gap = await wakeGap(env.cluster, await env.client(), await env.client(), env.name, false);
  assert.ok(gap < 500, `woken ${gap.toFixed(0)} ms after the release`);
  assert.equal(resolveDriver(await env.client()).sharded, false);
}, [IOREDIS_PLAIN]);

eachKind("a dead holder's lock is taken when its ttl runs out", async (env) => {
  const dead = new RedisLock(await env.client(), env.name, { ttl: 600, autoExtend: false });
  await dead.lock(); // and never releases
  const started = performance.now();
  const waiter = new RedisLock(await env.client(), env.name);
  assert.equal(await waiter.acquire({ blockingTimeout: 10_000 }), true);
  const waited = performance.now() - started;
  assert.ok(waited >= 400 && waited < 2_000, `acquired after ${waited.toFixed(0)} ms`);
  await waiter.release();
});

eachKind("an aborted fair waiter leaves no key, queue entry or subscription", async (env) => {
  const { key, queue, channel } = lockKeys(env.name);
  const holder = new RedisLock(await env.client(), env.name, { fair: true });
  await holder.lock();
  const controller = new AbortController();
  const waiter = new RedisLock(await env.client(), env.name, { fair: true });
  const waiting = waiter.acquire({ blockingTimeout: 10_000, signal: controller.signal });
  await until(async () => await subscribers(env.cluster, channel) > 0, "subscribed");
  const reason = new Error("stop waiting");
  controller.abort(reason);
  await assert.rejects(waiting, (err) => err === reason);
  assert.equal(await onOwner(env.cluster, key, "EXISTS", queue), 0);
  assert.equal(await subscribers(env.cluster, channel), 0);
  await holder.release();
  assert.equal(await onOwner(env.cluster, key, "EXISTS", key, queue), 0);
});

eachKind(
  "fair: waiters on separate connections acquire in queue order, by hand-off",
  async (env) => {
    const { key, queue } = lockKeys(env.name);
    const holder = new RedisLock(await env.client(), env.name, { fair: true });
    await holder.lock();
    const order: number[] = [];
    const done: Promise<void>[] = [];
    for (let i = 0; i < 4; i++) {
      const lock = new RedisLock(await env.client(), env.name, { fair: true });
      done.push(lock.run(() => void order.push(i), { blockingTimeout: 15_000 }));
      await until(
        async () =>
          Number(await onOwner(env.cluster, key, "ZCOUNT", queue, "(0", "+inf")) === i + 1,
        "queued",
      );
    }
    await holder.release();
    await Promise.all(done);
    assert.deepEqual(order, [0, 1, 2, 3]);
    assert.equal(await onOwner(env.cluster, key, "EXISTS", key, queue), 0);
    // A hand-off costs the release script only: the waiter owns the lock on receipt.
    const evalshas = async () =>
      Number(
        /cmdstat_evalsha:calls=(\d+)/.exec(
          String(await onOwner(env.cluster, key, "INFO", "commandstats")),
        )?.[1] ?? 0,
      );
    await holder.lock();
    const driver = tracked(await env.client());
    const waiter = new RedisLock(driver, env.name, { fair: true });
    const acquired = waiter.acquire({ blockingTimeout: 10_000 });
    await asleep([driver], 1, modeNamed("RedisLock fair"), [env.name]);
    const before = await evalshas();
    const sent = driver.sent;
    await holder.release();
    assert.equal(await acquired, true);
    assert.equal(await evalshas() - before, 1, "only the release script ran");
    assert.equal(driver.sent, sent, "the waiter sent nothing");
    await waiter.release();
  },
);

eachKind("locks over many names are spread over all three masters", async (env) => {
  const client = await env.client();
  const names = Array.from({ length: 48 }, (_, i) => `${env.name}:${i}`);
  const locks = names.map((name) => new RedisLock(client, name));
  await Promise.all(locks.map((lock) => lock.lock()));
  const perMaster = new Map<number, number>();
  for (const name of names) {
    const slot = await env.cluster.keyslot(lockKeys(name).key);
    const master = await env.cluster.masterOf(slot);
    assert.equal(
      await env.cluster.node(master).command("CLUSTER", "COUNTKEYSINSLOT", `${slot}`),
      1, // the lock's key (who holds it is in its token)
    );
    perMaster.set(master, (perMaster.get(master) ?? 0) + 1);
  }
  assert.equal(perMaster.size, 3, `masters used: ${[...perMaster.values()]}`);
  for (const count of perMaster.values()) assert.ok(count >= 5, `${[...perMaster.values()]}`);
  await Promise.all(locks.map((lock) => lock.release()));
}, kinds("node-redis v6 cluster", "ioredis v5 cluster"));

/** Waiters on their own connections, each taking the lock once; outcomes recorded. */
async function contenders(env: Env, name: string, count: number, blockingTimeout: number) {
  let inside = 0;
  let most = 0;
  const acquiredAt: number[] = [];
  const settledAt: number[] = [];
  const clients = await Promise.all(Array.from({ length: count }, () => env.client()));
  const runs = clients.map((client) =>
    new RedisLock(client, name).run(async () => {
      most = Math.max(most, ++inside);
      acquiredAt.push(performance.now());
      await delay(5);
      inside--;
    }, { blockingTimeout }).then(
      () => "acquired",
      (err: Error) => `${err?.constructor?.name}: ${err?.message}`.slice(0, 100),
    ).finally(() => settledAt.push(performance.now()))
  );
  return { clients, runs, acquiredAt, settledAt, most: () => most };
}

eachKind(
  "CLUSTER FAILOVER during waits: waiters resubscribe at once, none is stranded",
  async (env) => {
    const c = env.cluster;
    const { key, channel } = lockKeys(env.name);
    const holder = new RedisLock(await env.client(), env.name, { ttl: 15_000 });
    await holder.lock();
    const waiters = await contenders(env, env.name, 3, 20_000);
    await until(async () => await subscribers(c, channel) === 3, "3 waiters subscribed");
    const { from, to } = await c.failover(await c.keyslot(key));
    assert.notEqual(from, to);
    // Redis drops the sharded subscriptions of a slot whose master steps down.
    // Released right away, the waiters hear of it only if they subscribed
    // again on that shard meanwhile; otherwise they find out at their next
    // re-check, up to RECHECK_INTERVAL_MS later.
    const releasedAt = performance.now();
    await holder.release();
    assert.deepEqual(await Promise.all(waiters.runs), ["acquired", "acquired", "acquired"]);
    assert.equal(waiters.most(), 1);
    const first = waiters.acquiredAt[0] - releasedAt;
    assert.ok(first < 500, `first waiter acquired ${first.toFixed(0)} ms after the release`);
    // Later wake-ups on the same clients reach them from the new master.
    const [a, b] = waiters.clients;
    const gap = await wakeGap(c, a, b, env.name);
    assert.ok(gap < 500, `woken ${gap.toFixed(0)} ms after the release`);
  },
  FAILOVER_KINDS,
);

/**
 * How long after a master dies its waiters may still wait (far below their
 * 30 s blockingTimeout): the failover (node timeout 1 s plus the election),
 * the client's own bound on a command sent to the dead node (node-redis: its
 * 5 s command timeout), the 2 s re-check, and room for a loaded machine.
 */
const KILL_BOUND_MS = 20_000;

eachKind(
  "a killed master during waits: every waiter acquires in bounded time",
  async (env) => {
    const c = env.cluster;
    const { key, channel } = lockKeys(env.name);
    const slot = await c.keyslot(key);
    // Not renewed: a holder cut off by the failover still lets go by its ttl.
    const holder = new RedisLock(await env.client(), env.name, { ttl: 4_000, autoExtend: false });
    await holder.lock();
    const master = await c.masterOf(slot);
    const [replica] = (await c.shards()).find((s) => s.master === master)!.replicas;
    await until(
      async () =>
        await c.node(replica).command("DBSIZE") === await c.node(master).command("DBSIZE"),
      "the replica caught up",
    );
    const waiters = await contenders(env, env.name, 3, 30_000);
    await until(async () => await subscribers(c, channel) === 3, "3 waiters subscribed");
    const killedAt = performance.now();
    const { from } = await c.killMaster(slot);
    try {
      const failedOverAt = performance.now();
      await holder.release().catch(() => {}); // the lock may be gone, or the client not caught up
      const outcomes = await Promise.all(waiters.runs);
      const waited = waiters.settledAt.map((t) => t - killedAt);
      const report = `failover after ${(failedOverAt - killedAt).toFixed(0)} ms; waiters ` +
        `settled after ${waited.map((t) => t.toFixed(0)).join(", ")} ms: ${outcomes.join("; ")}`;
      // The replica had the holder's key, whose ttl frees it at the latest:
      // every waiter gets the lock well inside its 30 s blockingTimeout.
      assert.deepEqual(outcomes, ["acquired", "acquired", "acquired"], report);
      assert.ok(Math.max(...waited) < KILL_BOUND_MS, report);
      assert.ok(waiters.most() <= 1);
      // Once the client found the new master, wake-ups reach the same clients again.
      const [a, b] = waiters.clients;
      await until(
        async () => await wakeGap(c, a, b, env.name).catch(() => Infinity) < 500,
        "a wake-up within 500 ms",
        15_000,
      );
      console.log(
        `prompt wake-ups again ${(performance.now() - killedAt).toFixed(0)} ms after the kill`,
      );
    } finally {
      await c.restart(from); // back as a replica, for the next test
    }
  },
  KILL_KINDS,
  60_000,
);

// A master that takes no command for longer than the adapters' tries (two of
// CONFIRM_MS), but stays in the cluster: `CLIENT PAUSE ... ALL` holds every
// client command (SSUBSCRIBE too) while the cluster bus keeps it a master.
const PAUSE_MS = 2 * CONFIRM_MS + 2_000;

/** Pauses `node` for PAUSE_MS (see above). */
async function pause(node: ClusterNode): Promise<void> {
  assert.equal(await node.command("CLIENT", "PAUSE", `${PAUSE_MS}`, "ALL"), "OK");
}

/** Resolves once `node` answers again after a pause (a paused node closes our probe unanswered). */
async function unpaused(node: ClusterNode): Promise<void> {
  const deadline = performance.now() + PAUSE_MS + 10_000;
  while (await node.command("PING").catch(() => "") !== "PONG") {
    if (performance.now() > deadline) throw new Error(`${node.port} still paused`);
    await delay(100);
  }
}

/** How many times `command` ran on `node` (INFO commandstats). */
async function calls(node: ClusterNode, command: string): Promise<number> {
  const stats = String(await node.command("INFO", "commandstats"));
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
}

/** Sharded subscribers of `channels` on `node`, summed. */
async function shardSubscribers(node: ClusterNode, channels: string[]): Promise<number> {
  const reply = await node.command("PUBSUB", "SHARDNUMSUB", ...channels) as Reply[];
  return reply.filter((_, i) => i % 2 === 1).reduce((n: number, r) => n + Number(r), 0);
}

/** A lock name starting with `base` whose slot `master` owns. */
async function nameOn(c: RedisCluster, master: number, base: string): Promise<string> {
  for (let i = 0;; i++) {
    const name = `${base}:${i}`;
    if (await c.masterOf(await c.keyslot(lockKeys(name).key)) === master) return name;
  }
}

test(
  "every cluster client: a failed SSUBSCRIBE leaves nothing subscribed and is not sent again at topology events",
  {
    timeout: 60_000,
  },
  async () => {
    const c = await cluster();
    const [a, b, third] = (await c.shards()).map((shard) => c.node(shard.master));
    const opened = await Promise.all(CLUSTER_KINDS.map(async (kind) => {
      const { client, close } = await kind.connect(c);
      const driver = resolveDriver(client);
      const { seen, events } = recorder();
      const sub = await driver.createSubscriber(events);
      const control = lockKeys(await nameOn(c, b.port, `${kind.name}:control`)).channel;
      const failing = lockKeys(await nameOn(c, a.port, `${kind.name}:failing`)).channel;
      const later = lockKeys(await nameOn(c, third.port, `${kind.name}:later`)).channel;
      await sub.subscribe(control);
      return { kind, close, driver, sub, seen, failing, later };
    }));
    const failing = opened.map((o) => o.failing);
    try {
      const sent = await calls(a, "ssubscribe");
      await pause(a);
      const outcomes = await Promise.all(
        opened.map(({ kind, driver, sub, failing }) =>
          sub.subscribe(failing).then(
            () => `${kind.name}: subscribed`,
            (err) => `${kind.name}: ${driver.isTransient?.(err) ? "transient" : "final"} error`,
          )
        ),
      );
      assert.deepEqual(
        outcomes,
        opened.map(({ kind }) => `${kind.name}: transient error`),
      );
      await unpaused(a);
      // The SSUBSCRIBEs held by the pause have run (at least one per client),
      // so each channel was subscribed; the adapters undo what they gave up on.
      await until(
        async () => await calls(a, "ssubscribe") >= sent + opened.length,
        "SSUBSCRIBEs run",
      );
      await until(
        async () => await shardSubscribers(a, failing) === 0,
        "late confirmations undone",
      );
      // Topology events: each client's subscriber connection to b is killed
      // (it reconnects), and each opens one to c (node-redis v5 reports only a
      // new node connection as ready); every adapter subscribes its channels again.
      for (const { seen } of opened) seen.length = 0;
      const before = await calls(a, "ssubscribe");
      assert.ok(Number(await b.command("CLIENT", "KILL", "TYPE", "pubsub")) >= opened.length);
      await Promise.all(opened.map(({ sub, later }) => sub.subscribe(later)));
      const resynced = () => opened.every(({ seen }) => seen.includes("resubscribed"));
      await until(resynced, "resynced").catch((err) => {
        const late = opened.filter(({ seen }) => !seen.includes("resubscribed"));
        throw new Error(`${err.message}: ${late.map(({ kind }) => kind.name)}`);
      });
      assert.equal(await calls(a, "ssubscribe") - before, 0, "no failed channel subscribed again");
      assert.equal(await shardSubscribers(a, failing), 0);
    } finally {
      await Promise.allSettled(opened.map(({ close }) => close()));
    }
  },
);

/** `driver`, but its subscriber's first SSUBSCRIBE waits for `first()` (which pauses the master). */
function failingFirstSubscribe(driver: RedisDriver, first: () => Promise<void>): RedisDriver {
  return {
    evalsha: (sha, keys, args) => driver.evalsha(sha, keys, args),
    eval: (source, keys, args) => driver.eval(source, keys, args),
    isTransient: (err) => driver.isTransient?.(err) ?? false,
    get sharded() {
      return driver.sharded;
    },
    async createSubscriber(events) {
      const sub = await driver.createSubscriber(events);
      let before: (() => Promise<void>) | undefined = first;
      return {
        async subscribe(channel) {
          const wait = before;
          before = undefined;
          await wait?.();
          await sub.subscribe(channel);
        },
        unsubscribe: (channel) => sub.unsubscribe(channel),
        close: () => sub.close(),
      };
    },
  };
}

test(
  "every cluster client: a waiter whose SSUBSCRIBE failed still acquires when the holder releases after the node is back",
  {
    timeout: 90_000,
  },
  async () => {
    const c = await cluster();
    const a = c.node((await c.shards())[0].master);
    const closers: Array<() => Promise<void>> = [];
    const connect = async (kind: ClusterKind) => {
      const { client, close } = await kind.connect(c);
      closers.push(close);
      return client;
    };
    // Every waiter's first SSUBSCRIBE waits until all have reached it, then
    // meets the paused master (their first attempt, before it, was answered).
    let arrived = 0;
    let paused: () => void;
    const allPaused = new Promise<void>((resolve) => paused = resolve);
    const first = async () => {
      if (++arrived === CLUSTER_KINDS.length) await pause(a).then(paused);
      await allPaused;
    };
    try {
      const runs = await Promise.all(CLUSTER_KINDS.map(async (kind) => {
        const name = await nameOn(c, a.port, `${kind.name}:e2e`);
        const holder = new RedisLock(await connect(kind), name, { ttl: 60_000, autoExtend: false });
        await holder.lock();
        const driver = failingFirstSubscribe(resolveDriver(await connect(kind)), first);
        const waiter = new RedisLock(driver, name);
        const acquired = waiter.acquire({ blockingTimeout: 30_000 }).then(
          (ok) => `${kind.name}: ${ok ? "acquired" : "timed out"}`,
          (err) => `${kind.name}: ${err}`,
        );
        return { kind, name, holder, waiter, acquired };
      }));
      await allPaused;
      await unpaused(a);
      await Promise.all(runs.map(({ holder }) => holder.release()));
      const outcomes = await Promise.all(runs.map(({ acquired }) => acquired));
      assert.deepEqual(outcomes, runs.map(({ kind }) => `${kind.name}: acquired`));
      await Promise.all(runs.map(({ waiter }) => waiter.release()));
      // Nothing is left subscribed once no waiter needs it.
      const channels = runs.map(({ name }) => lockKeys(name).grants);
      await until(async () => await shardSubscribers(a, channels) === 0, "channels dropped");
    } finally {
      await Promise.allSettled(closers.map((close) => close()));
    }
  },
);
