import { after, test } from "node:test";
import assert from "node:assert/strict";
import { type LockClient, RedisReadWriteLock } from "../mod.ts";
import { readWriteKeys } from "../lib/redis/_rw_keys.ts";
import { CLUSTER_KINDS, type RedisCluster, startCluster } from "./harness/cluster.ts";
import { until } from "./harness/env.ts";

// One cluster for the whole file, started by the first test that needs it.
let shared: Promise<RedisCluster> | undefined;
const cluster = () => shared ??= startCluster();
after(async () => await (await shared?.catch(() => undefined))?.stop());

const HOSTILE = ["{", "}", "{}", "a{b}c", "x}y{z", "%7B", "lock:{x}", "ключ{}"];

function eachKind(
  title: string,
  fn: (c: RedisCluster, client: () => Promise<LockClient>, name: string) => Promise<void>,
): void {
  for (const kind of CLUSTER_KINDS) {
    test(`${kind.name}: ${title}`, { timeout: 30_000 }, async () => {
      const c = await cluster();
      const closers: Array<() => Promise<void>> = [];
      const client = async () => {
        const { client, close } = await kind.connect(c);
        closers.push(close);
        return client;
      };
      try {
        await fn(c, client, `${title.split(" ").slice(0, 2).join("-")}:${kind.name}`);
      } finally {
        await Promise.allSettled(closers.map((close) => close()));
      }
    });
  }
}

/** How many of the read-write lock's keys exist, asked of the master that owns their slot. */
async function keysLeft(c: RedisCluster, name: string): Promise<number> {
  const keys = readWriteKeys(name);
  const node = c.node(await c.masterOf(await c.keyslot(keys.writer)));
  const all = [keys.writer, keys.readers, keys.queue];
  return Number(await node.command("EXISTS", ...all));
}

test("every key and channel of a read-write lock share one slot, for hostile names", async () => {
  const c = await cluster();
  for (const name of HOSTILE) {
    const { writer, readers, fence, queue, channel, grants } = readWriteKeys(name);
    const got = await Promise.all(
      [writer, readers, fence, queue, channel, grants].map((k) => c.keyslot(k)),
    );
    assert.equal(new Set(got).size, 1, `${JSON.stringify(name)}: slots ${got}`);
  }
});

eachKind(
  "hostile names: readers share, a writer waits, hand-offs by sharded message",
  async (c, client, base) => {
    for (const suffix of HOSTILE.slice(0, 4)) {
      const name = `${base}${suffix}`;
      const options = { fencing: true, handoffTimeout: 10_000 };
      const readers = [await client(), await client()].map((cl) =>
        new RedisReadWriteLock(cl, name, options)
      );
      const r1 = await readers[0].readLock().lock();
      const r2 = await readers[1].readLock().lock();
      const writerLock = new RedisReadWriteLock(await client(), name, options);
      const writer = writerLock.writeLock();
      const writing = writer.acquire({ blockingTimeout: 10_000 });
      const keys = readWriteKeys(name);
      const node = c.node(await c.masterOf(await c.keyslot(keys.queue)));
      await until(
        async () => Number(await node.command("ZCOUNT", keys.queue, "(0", "+inf")) === 1,
        "writer queued",
      );
      const late = readers[0].readLock();
      const reading = late.acquire({ blockingTimeout: 10_000 });
      await until(
        async () => Number(await node.command("ZCOUNT", keys.queue, "(0", "+inf")) === 2,
        "reader queued",
      );
      await r1.release();
      const released = performance.now();
      await r2.release();
      assert.equal(await writing, true);
      assert.ok(performance.now() - released < 500, "the last reader's release woke the writer");
      assert.equal(late.held, false, "the late reader waits behind the writer");
      await writer.release();
      assert.equal(await reading, true);
      assert.equal(late.fencingToken, writer.fencingToken);
      await late.release();
      assert.equal(await keysLeft(c, name), 0, `${name}: keys left`);
    }
  },
);

eachKind(
  "a reader that stops renewing frees the lock for a writer at its lease's end",
  async (c, client, name) => {
    const reader = await new RedisReadWriteLock(await client(), name, {
      ttl: 400,
      autoExtend: false,
    })
      .readLock().lock();
    const writer = new RedisReadWriteLock(await client(), name).writeLock();
    const start = performance.now();
    assert.equal(await writer.acquire({ blockingTimeout: 5_000 }), true);
    assert.ok(performance.now() - start < 400 + 500);
    assert.equal(reader.held, false);
    await writer.release();
    assert.equal(await keysLeft(c, name), 0);
  },
);
