/**
 * The cluster adapters (node-redis and ioredis) against a stand-in cluster
 * client: which commands they send, and when. What they do on a real
 * cluster is in `cluster_test.ts`.
 */

import { test } from "node:test";
import { EventEmitter } from "node:events";
import assert from "node:assert/strict";
import type { RedisDriver } from "../mod.ts";
import { type IoRedisCluster, ioRedisClusterDriver } from "../lib/clients/ioredis_cluster.ts";
import {
  type NodeRedisCluster,
  nodeRedisClusterDriver,
} from "../lib/clients/node_redis_cluster.ts";
import { SETTLE_MS } from "../lib/clients/_cluster_pubsub.ts";
import { recorder } from "./harness/cluster.ts";
import { delay, until } from "./harness/env.ts";

/** A stand-in cluster client that records commands; `reply` answers them. */
class FakeCluster extends EventEmitter {
  readonly masters = [];
  readonly isCluster = true;
  readonly calls: string[] = [];
  constructor(
    readonly options: { shardedSubscribers?: boolean },
    readonly reply: (args: string[]) => Promise<unknown> = () => Promise.resolve([null]),
  ) {
    super();
  }
  #record(...args: string[]): Promise<unknown> {
    this.calls.push(args.join(" "));
    return this.reply(args);
  }
  sendCommand = (_key: string | undefined, _ro: boolean | undefined, args: string[]) =>
    this.#record(...args);
  call = (command: string, ...args: string[]) => this.#record(command, ...args);
  sSubscribe = (channel: string) => this.#record("SSUBSCRIBE", channel);
  sUnsubscribe = (channel: string) => this.#record("SUNSUBSCRIBE", channel);
  ssubscribe = this.sSubscribe;
  sunsubscribe = this.sUnsubscribe;
  subscribe = (channel: string) => this.#record("SUBSCRIBE", channel);
  unsubscribe = (channel: string) => this.#record("UNSUBSCRIBE", channel);
}

const SPUBLISH_INFO = [["spublish", 3, ["pubsub"], 1, 1, 1]];

for (
  const [label, adapt] of [
    ["node-redis", (c: FakeCluster) => nodeRedisClusterDriver(c as unknown as NodeRedisCluster)],
    ["ioredis", (c: FakeCluster) => ioRedisClusterDriver(c as unknown as IoRedisCluster)],
  ] as const
) {
  test(`${label} cluster adapter: sharded Pub/Sub only where the server knows SPUBLISH`, async () => {
    const old = new FakeCluster(
      { shardedSubscribers: true },
      (args) => Promise.resolve(args[0] === "COMMAND" ? [null] : "OK"),
    );
    const driver = adapt(old);
    await driver.evalsha("sha", ["lock:{a}"], []);
    assert.equal(driver.sharded, false);
    const sub = await driver.createSubscriber(recorder().events);
    await sub.subscribe("lock:{a}:wake");
    assert.deepEqual(old.calls, [
      "COMMAND INFO SPUBLISH",
      "EVALSHA sha 1 lock:{a}",
      "SUBSCRIBE lock:{a}:wake",
    ]);

    const refused = adapt(
      new FakeCluster(
        { shardedSubscribers: true },
        (args) =>
          args[0] === "COMMAND"
            ? Promise.reject(new Error("NOPERM this user has no permissions to run 'command'"))
            : Promise.resolve("OK"),
      ),
    );
    await refused.eval("return 1", ["k"], []);
    assert.equal(refused.sharded, false);

    let down = true;
    const flaky = new FakeCluster(
      { shardedSubscribers: true },
      (args) =>
        down
          ? Promise.reject(new Error("connection lost"))
          : Promise.resolve(args[0] === "COMMAND" ? SPUBLISH_INFO : "OK"),
    );
    const retried = adapt(flaky);
    await assert.rejects(retried.evalsha("sha", ["k"], []), /connection lost/);
    down = false;
    await retried.evalsha("sha", ["k"], []);
    assert.equal(retried.sharded, true);
    assert.equal(flaky.calls.filter((c) => c.startsWith("COMMAND")).length, 2, "asked again");
  });
}

test("ioredis cluster adapter: without shardedSubscribers it never asks and uses plain Pub/Sub", async () => {
  const fake = new FakeCluster({}, () => Promise.resolve(SPUBLISH_INFO));
  const driver = ioRedisClusterDriver(fake as unknown as IoRedisCluster);
  assert.equal(driver.sharded, false);
  await (await driver.createSubscriber(recorder().events)).subscribe("c");
  assert.deepEqual(fake.calls, ["SUBSCRIBE c"]);
});

test("ioredis cluster adapter: after a node error it subscribes again, confirmed, then waiters retry", async () => {
  const fake = new FakeCluster({ shardedSubscribers: true }, () => Promise.resolve(SPUBLISH_INFO));
  const { seen, events } = recorder();
  const sub = await ioRedisClusterDriver(fake as unknown as IoRedisCluster).createSubscriber(
    events,
  );
  await sub.subscribe("a");
  fake.emit("smessage", "a", "released");
  // What ioredis 5.9 reports when Redis drops a sharded subscription at a failover:
  fake.emit("nodeError", new Error("Command queue state error. Last reply: sunsubscribe,a,0"));
  await until(() => seen.includes("resubscribed"), "resubscribed", 2_000);
  assert.deepEqual(fake.calls.slice(-3), ["SSUBSCRIBE a", "SUNSUBSCRIBE a", "SSUBSCRIBE a"]);
  assert.deepEqual(seen, ["message a released", "resubscribed"]);
  fake.emit("end");
  assert.deepEqual(seen.at(-1), "closed");
});

test("ioredis cluster adapter: an SSUBSCRIBE left unanswered (a swallowed MOVED) is sent again", async () => {
  let answered = 0;
  const fake = new FakeCluster(
    { shardedSubscribers: true },
    (args) =>
      args[0] === "SSUBSCRIBE" && answered++ === 0
        ? new Promise(() => {})
        : Promise.resolve(SPUBLISH_INFO),
  );
  const sub = await ioRedisClusterDriver(fake as unknown as IoRedisCluster).createSubscriber(
    recorder().events,
  );
  const alive = setInterval(() => {}, 1_000); // a real client's socket keeps the process up
  try {
    await sub.subscribe("a");
  } finally {
    clearInterval(alive);
  }
  assert.deepEqual(fake.calls.slice(-2), ["SSUBSCRIBE a", "SSUBSCRIBE a"]);
});

test("node-redis cluster adapter: when a node connection becomes ready it subscribes again, then waiters retry", async () => {
  const fake = new FakeCluster({}, () => Promise.resolve(SPUBLISH_INFO));
  const { seen, events } = recorder();
  const driver = nodeRedisClusterDriver(fake as unknown as NodeRedisCluster);
  const sub = await driver.createSubscriber(events);
  fake.emit("node-ready"); // nothing subscribed: nothing to do
  await delay(200);
  await sub.subscribe("a");
  fake.emit("node-ready");
  await until(() => seen.includes("resubscribed"), "resubscribed", 2_000);
  // node-redis v5 drops a sharded subscription at a failover; v6 keeps it (then a no-op).
  assert.deepEqual(fake.calls, ["COMMAND INFO SPUBLISH", "SSUBSCRIBE a", "SSUBSCRIBE a"]);
  fake.emit("disconnect"); // the cluster client was closed
  assert.deepEqual(seen, ["resubscribed", "closed"]);
});

/** Replies the test settles by hand; `most` is how many were unsettled at once. */
class Held {
  readonly sent: Array<(reply: unknown) => void> = [];
  most = 0;
  #open = 0;
  next(): Promise<unknown> {
    this.most = Math.max(this.most, ++this.#open);
    return new Promise((resolve) =>
      this.sent.push((reply) => {
        this.#open--;
        resolve(reply);
      })
    );
  }
}

/** Keeps the process up while only the adapter's unref'd timers are pending (a real client's socket would). */
async function kept<T>(run: () => Promise<T>): Promise<T> {
  const alive = setInterval(() => {}, 1_000);
  try {
    return await run();
  } finally {
    clearInterval(alive);
  }
}

const ADAPTERS = [
  {
    label: "node-redis",
    adapt: (c: FakeCluster): RedisDriver =>
      nodeRedisClusterDriver(c as unknown as NodeRedisCluster),
    topology: "node-ready",
    closed: "disconnect",
  },
  {
    label: "ioredis",
    adapt: (c: FakeCluster): RedisDriver => ioRedisClusterDriver(c as unknown as IoRedisCluster),
    topology: "nodeError",
    closed: "end",
  },
];

for (const { label, adapt, topology, closed } of ADAPTERS) {
  test(`${label} cluster adapter: a subscription that fails is forgotten, and undone if confirmed late`, async () => {
    const held = new Held();
    let tries = 0;
    const fake = new FakeCluster({ shardedSubscribers: true }, (args) => {
      if (args.join(" ") !== "SSUBSCRIBE a") return Promise.resolve(SPUBLISH_INFO);
      // The first try meets a slot being migrated, the second a node that stalls.
      if (tries++ === 0) return Promise.reject(new Error("TRYAGAIN Multiple keys request"));
      return held.next();
    });
    const driver = adapt(fake);
    const { seen, events } = recorder();
    const sub = await driver.createSubscriber(events);
    const failed = await kept(() => sub.subscribe("a").then(() => undefined, (err) => err));
    assert.ok(failed instanceof Error, "subscribe() rejected");
    assert.equal(driver.isTransient?.(failed), true, `worth a retry: ${failed}`);
    const sentForA = () => fake.calls.filter((call) => call.endsWith(" a"));
    assert.deepEqual(sentForA(), ["SSUBSCRIBE a", "SSUBSCRIBE a"]);
    // A topology event subscribes again what is still wanted, and nothing else.
    await sub.subscribe("b");
    fake.emit(topology);
    await until(() => seen.includes("resubscribed"), "resubscribed");
    assert.deepEqual(sentForA(), ["SSUBSCRIBE a", "SSUBSCRIBE a"], "a is not subscribed again");
    // The stalled node answers at last: that subscription is undone.
    held.sent[0]("confirmed");
    await until(() => sentForA().length === 3, "a late confirmation undone");
    assert.equal(sentForA()[2], "SUNSUBSCRIBE a");
    // Unsubscribing the failed channel afterwards has nothing left to undo.
    const sent = fake.calls.length;
    await sub.unsubscribe("a");
    assert.equal(fake.calls.length, sent);
    fake.emit(closed);
    assert.equal(seen.at(-1), "closed");
  });

  test(`${label} cluster adapter: topology events during a resync wait for it, then run it once more`, async () => {
    const held = new Held();
    let holding = false;
    const fake = new FakeCluster(
      { shardedSubscribers: true },
      (args) => holding && args[0] === "SSUBSCRIBE" ? held.next() : Promise.resolve(SPUBLISH_INFO),
    );
    const { seen, events } = recorder();
    const sub = await adapt(fake).createSubscriber(events);
    await sub.subscribe("a");
    holding = true;
    await kept(async () => {
      fake.emit(topology);
      await until(() => held.sent.length === 1, "a resync under way");
      fake.emit(topology);
      fake.emit(topology);
      // Long enough for these events' settle timers to have fired: a resync
      // that did not wait for the first would have sent its SSUBSCRIBE.
      await delay(3 * SETTLE_MS);
      assert.equal(held.sent.length, 1, "no second resync while the first runs");
      held.sent[0]("confirmed");
      await until(() => held.sent.length === 2, "one more resync after the first");
      held.sent[1]("confirmed");
      await until(() => seen.filter((e) => e === "resubscribed").length === 2, "both resyncs");
    });
    assert.equal(held.most, 1, "never two SSUBSCRIBEs of a resync in flight at once");
    fake.emit(closed);
  });
}
