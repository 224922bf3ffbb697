import assert from "node:assert/strict";
import { RedisLock } from "../mod.ts";
import { LINGER_MS, SubscriberManager } from "../lib/wait/subscriber_manager.ts";
import { resolveDriver } from "../lib/clients/lock_client.ts";
import { lockKeys } from "../lib/redis/_keys.ts";
import { channels, delay, eachClient, subscribers, until } from "./harness/env.ts";
import { asleep, modeNamed, tracked } from "./harness/fault_modes.ts";

eachClient(
  "many waits, timeouts and aborts share one subscriber connection and leave no channel",
  async (env) => {
    const client = await env.client();
    const driver = resolveDriver(client);
    const names = ["a", "b", "c", "d"];
    const holders = names.map((name) => new RedisLock(driver, name));
    await Promise.all(holders.map((h) => h.lock()));
    const waits: Promise<unknown>[] = [];
    const controllers: AbortController[] = [];
    for (let i = 0; i < 60; i++) {
      const lock = new RedisLock(driver, names[i % names.length]);
      const controller = new AbortController();
      if (i % 3 === 1) controllers.push(controller);
      const blockingTimeout = i % 3 === 0 ? 100 : 10_000;
      waits.push(
        lock.acquire({ blockingTimeout, signal: controller.signal })
          .then(async (ok) => ok && await lock.release(), () => {}),
      );
    }
    const manager = SubscriberManager.for(driver);
    const live = () => names.every((name) => manager.isLive(lockKeys(name).grants));
    await until(live, "every name's channel subscribed");
    assert.equal(manager.connectionsOpened, 1);
    assert.equal(manager.channelCount, names.length);
    const pubsubClients = String(await env.server.command("CLIENT", "LIST", "TYPE", "pubsub"));
    assert.equal(pubsubClients.trim().split("\n").length, 1, pubsubClients);
    for (const c of controllers) c.abort();
    await Promise.all(holders.map((h) => h.release()));
    await Promise.all(waits);
    assert.equal(manager.waiterCount, 0);
    // A waiter that took the lock keeps its channel for LINGER_MS, for its
    // next wait. UNSUBSCRIBE is sent once a channel goes.
    const dropped = async () =>
      manager.channelCount === 0 && (await channels(env.server)).length === 0;
    await until(dropped, "every channel dropped", LINGER_MS + 1_000);
    assert.equal(manager.connectionsOpened, 1, "the connection was reused, not reopened");
  },
);

eachClient("locks on one client share its subscriber connection", async (env) => {
  const client = await env.client();
  const holder = new RedisLock(await env.client(), "x");
  await holder.lock();
  const waits = [1, 2, 3].map(() => new RedisLock(client, "x").acquire({ blockingTimeout: 2_000 }));
  const manager = SubscriberManager.for(resolveDriver(client));
  await until(
    () => manager.waiterCount === 3 && manager.isLive(lockKeys("x").grants),
    "all 3 asleep",
  );
  const pubsub = String(await env.server.command("CLIENT", "LIST", "TYPE", "pubsub")).trim();
  assert.equal(pubsub.split("\n").length, 1, pubsub);
  assert.match(pubsub, /sub=1 /);
  assert.deepEqual(await Promise.all(waits), [false, false, false]);
  await holder.release();
});

eachClient(
  "a subscriber connection killed by the server is re-established and waiters still wake by Pub/Sub",
  async (env) => {
    const holder = new RedisLock(await env.client(), "x");
    await holder.lock();
    const driver = tracked(await env.client());
    const waiter = new RedisLock(driver, "x");
    const acquired = waiter.acquire({ blockingTimeout: 20_000 });
    await asleep([driver], 1, modeNamed("RedisLock fair"), ["x"]);
    const sent = driver.sent;
    assert.equal(await env.server.command("CLIENT", "KILL", "TYPE", "pubsub"), 1);
    while (await subscribers(env.server, "lock:{x}:wake") === 0) await delay(5);
    // The waiter re-checks once told it is subscribed again; let that run.
    await until(() => driver.sent > sent && driver.inflight === 0, "the re-check");
    const releasedAt = performance.now();
    await holder.release();
    assert.equal(await acquired, true);
    const gap = performance.now() - releasedAt;
    assert.ok(gap < 500, `woken ${gap.toFixed(0)} ms after the release (re-check is 2 s)`);
    await waiter.release();
  },
);
