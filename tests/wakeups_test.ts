// Who hears a release (issue 16): a fair hand-off reaches the waiting
// process's own channel only, and a release publishes on the lock's channel
// only while race-mode waiters wait there.
import assert from "node:assert/strict";
import { createClient } from "redis";
import { RedisLock } from "../mod.ts";
import { lockKeys } from "../lib/redis/_keys.ts";
import {
  commandCalls,
  eachClient,
  releaseFromElsewhere,
  subscribers,
  until,
} from "./harness/env.ts";

const KEYS = lockKeys("w");

eachClient(
  "a hand-off to a waiter of another process is published on that process's channel only",
  async (env) => {
    // A watcher stands for every other waiting process: it listens on the
    // lock's channel and on another process's hand-off channel.
    const watcher = await createClient({ url: env.server.url }).connect();
    const heard: string[] = [];
    const elsewhere = `${KEYS.channel}:00000000feedbeef`;
    await watcher.subscribe([KEYS.channel, elsewhere], (message, channel) => {
      heard.push(`${channel} ${message}`);
    });
    try {
      await env.server.command("SET", KEYS.key, "other@00000000feedbeef.30000", "PX", "30000");
      const waiter = new RedisLock(await env.client(), "w");
      const acquired = waiter.acquire({ blockingTimeout: 10_000 });
      const queued = async () => await env.server.command("ZCOUNT", KEYS.queue, "(0", "+inf");
      await until(
        async () => await queued() === 1 && await subscribers(env.server, KEYS.channel) === 3,
        "waiting",
      );
      // The release of a holder of yet another process (no local mark).
      const token = "other@00000000feedbeef.30000";
      const reply = await releaseFromElsewhere(env.server, "w", token);
      assert.equal(reply, 2, "handed on by a message");
      assert.equal(await acquired, true);
      // Messages to one connection arrive in order: once this marker is
      // heard, anything the release published to the watcher was heard too.
      await env.server.command("PUBLISH", elsewhere, "marker");
      await until(() => heard.length > 0, "the marker");
      assert.deepEqual(heard, [`${elsewhere} marker`], "no other process heard the hand-off");
      await waiter.release();
    } finally {
      await watcher.close();
    }
  },
);

eachClient(
  "a release publishes nothing unless race-mode waiters wait, and then one `released`",
  async (env) => {
    const client = await env.client();
    const published = () => commandCalls(env.server, "publish");
    const before = await published();
    for (const fair of [true, false]) {
      const lock = new RedisLock(client, "w", { fair });
      for (let i = 0; i < 3; i++) await (await lock.lock()).release();
    }
    assert.equal(await published(), before, "uncontended releases published nothing");
    const holder = await new RedisLock(client, "w", { fair: false }).lock();
    const racer = new RedisLock(await env.client(), "w", { fair: false });
    const racing = racer.acquire({ blockingTimeout: 10_000 });
    await until(async () => await env.server.command("EXISTS", KEYS.racers) === 1, "marked");
    await until(async () => await subscribers(env.server, KEYS.channel) === 1, "subscribed");
    await holder.release();
    assert.equal(await racing, true);
    assert.equal(await published(), before + 1, "one `released` for the racer");
    assert.equal(await env.server.command("EXISTS", KEYS.racers), 0, "the mark went with it");
    await racer.release();
    assert.equal(await published(), before + 1, "and nothing once nobody races");
  },
);
