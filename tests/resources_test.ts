import { test } from "node:test";
import assert from "node:assert/strict";
import v8 from "node:v8";
import vm from "node:vm";
import { SubscriberManager } from "../lib/wait/subscriber_manager.ts";
import { resolveDriver } from "../lib/clients/lock_client.ts";
import type { LockClient } from "../mod.ts";
import { channels, CLIENT_KINDS, until, within } from "./_env.ts";
import { type Mode, MODES, pubsubConnections } from "./_fault_modes.ts";
import { type RedisServer, startRedis } from "./_redis.ts";

const NAMES = 1_000;
const WAITERS = 10_000;

/** A full garbage collection, where the runtime lets a script ask for one. */
function findGc(): (() => void) | undefined {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.gc) return g.gc;
  if (g.Bun) return () => g.Bun!.gc(true);
  try {
    v8.setFlagsFromString("--expose-gc");
    return vm.runInNewContext("gc") as () => void;
  } catch {
    return undefined;
  }
}

const gc = findGc();
const heapMiB = () => {
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

interface Round {
  readonly seconds: number;
  /** Heap while all waiters wait, and once they are all done (MiB, after a GC). */
  readonly waiting: number;
  readonly after: number;
}

/**
 * Holders on one client hold 1 000 names; 10 000 waiters on another client
 * wait for them (10 per name), then take the lock in turn once the holders
 * release. Checks what must hold while they wait and once they are done.
 */
async function round(mode: Mode, server: RedisServer, holding: LockClient, waiting: LockClient) {
  const names = Array.from({ length: NAMES }, (_, i) => `name-${i}`);
  const holders = names.map((name) => mode.make(holding, name));
  await Promise.all(holders.map((h) => h.lock()));
  const manager = SubscriberManager.for(resolveDriver(waiting));
  const started = performance.now();
  const waits = Array.from({ length: WAITERS }, async (_, i) => {
    const lock = mode.make(waiting, names[i % NAMES]);
    if (!(await lock.acquire({ blockingTimeout: 120_000 }))) return false;
    await lock.release();
    return true;
  });
  await until(() => manager.waiterCount === WAITERS, "every waiter queued", 60_000);
  await until(async () => (await channels(server)).length === NAMES, "subscribed", 60_000);
  assert.equal(await pubsubConnections(server), 1, "one subscriber connection");
  assert.equal(manager.connectionsOpened, 1);
  const heapWaiting = heapMiB();
  await Promise.all(holders.map((h) => h.release()));
  const acquired = await within(Promise.all(waits), 120_000, "a waiter");
  const seconds = (performance.now() - started) / 1000;
  assert.equal(acquired.filter((ok) => ok).length, WAITERS);
  assert.equal(manager.waiterCount, 0);
  assert.equal(manager.channelCount, 0);
  await until(async () => (await channels(server)).length === 0, "no channel subscribed");
  assert.equal(await server.command("DBSIZE"), 0);
  return { seconds, waiting: heapWaiting, after: heapMiB() };
}

for (const mode of MODES.filter((m) => m.pubsub)) {
  test(`${mode.name}: 10 000 waiters on 1 000 names share one subscriber connection, all acquire, and leave no channel, waiter or memory behind`, async () => {
    const server = await startRedis();
    const kind = CLIENT_KINDS[0];
    const holding = await kind.connect(server.url);
    const waiting = await kind.connect(server.url);
    try {
      const start = heapMiB();
      // The first round also warms the runtime up (JIT, client buffers), so the
      // heap after it is the baseline for the next two.
      const rounds: Round[] = [];
      for (let i = 0; i < 3; i++) {
        rounds.push(await round(mode, server, holding.client, waiting.client));
      }
      const figures = rounds.map((r) =>
        `${r.seconds.toFixed(1)} s, heap ${r.waiting.toFixed(1)} MiB waiting, ` +
        `${r.after.toFixed(1)} after`
      );
      console.log(
        `${mode.name} on ${kind.name}: heap ${start.toFixed(1)} MiB at start; ` +
          `${figures.join("; ")}${gc ? "" : " (no GC available: figures are rough)"}`,
      );
      // A leak would grow the heap round after round: compare the lower of the
      // last two rounds with the first (one noisy round does not count), and
      // allow a quarter of what the waiters used while waiting. Deno's figure
      // moves by tens of MiB while other test files run in parallel, so there
      // it is reported, not asserted.
      if (gc && !("Deno" in globalThis)) {
        const growth = Math.min(rounds[1].after, rounds[2].after) - rounds[0].after;
        const allowed = Math.max(5, (rounds[0].waiting - rounds[0].after) / 4);
        assert.ok(growth < allowed, `the heap grew by ${growth.toFixed(1)} MiB a round`);
      }
    } finally {
      await Promise.allSettled([holding.close(), waiting.close()]);
      await server.stop();
    }
  });
}
