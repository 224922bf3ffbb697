// Bounds a caller can count on (issue 13, items 2, 4, 7, 8a, 8b, 8d): release
// never waits on the subscriber connection; a wait ends by its deadline plus
// the attempt grace when Redis stops answering; a waiter whose subscription
// is never confirmed still re-checks and keeps its place in the fair queue;
// extend() wins over a renewal sent while it is in flight; a fair spin waiter
// takes up its hand-off; a timed-out wait sets no negative timer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import process from "node:process";
import { type RedisDriver, RedisLock, RedisSpinLock } from "../mod.ts";
import { RECHECK_INTERVAL_MS } from "../lib/wait/_pubsub_wait.ts";

/** Either lock of this package. */
type AnyLock = RedisLock | RedisSpinLock;
import { resolveDriver } from "../lib/clients/lock_client.ts";
import {
  channels,
  delay,
  eachClient,
  subscribers,
  type TestEnv,
  testEnv,
  until,
  within,
} from "./harness/env.ts";
import { eachKind, tracked } from "./harness/fault_modes.ts";
import { startProxy } from "./harness/proxy.ts";
import { type ProxiedSubscriber, proxiedSubscriber } from "./harness/split_driver.ts";
import { type Child, runtimeCommand, startChild } from "./harness/process.ts";
import { clientKind } from "./harness/clients.ts";

const CHANNEL = "lock:{job}:wake";
const QUEUE = "lock:{job}:queue";
const SLACK = 150; // timer lag on a loaded machine
/** The suite's slower tests (child processes, several seconds) run on these clients only. */
const TWO_KINDS = ["node-redis v6 RESP3", "ioredis v5"].map(clientKind);

/** Signals `child` by pid (Deno's `ChildProcess.kill()` acts only once). */
function signal(child: Child, name: "SIGTERM" | "SIGKILL"): void {
  const { pid, exitCode, signalCode } = child.process;
  if (pid === undefined || exitCode !== null || signalCode !== null) return;
  try {
    process.kill(pid, name);
  } catch {
    // it exited meanwhile
  }
}

async function queueLength(env: TestEnv): Promise<number> {
  return Number(await env.server.command("ZCOUNT", QUEUE, "(0", "+inf"));
}

/** Resolves when `promise` settles, with its value or its error. */
function outcome<T>(promise: Promise<T>): Promise<T | unknown> {
  return promise.then((value) => value, (err) => err);
}

// Item 2: release() never waits on the subscriber connection. The three ways
// a holder lets go:
const WAYS: Array<{ name: string; use(lock: AnyLock, body: () => Promise<void>): Promise<void> }> =
  [
    {
      name: "release()",
      async use(lock, body) {
        await lock.lock({ blockingTimeout: 10_000 });
        await body();
        await lock.release();
      },
    },
    {
      name: "run()",
      use: (lock, body) => lock.run(body, { blockingTimeout: 10_000 }),
    },
    {
      name: "await using",
      async use(lock, body) {
        await using _held = await lock.lock({ blockingTimeout: 10_000 });
        await body();
      },
    },
  ];

for (const way of WAYS) {
  eachKind(
    `fair: ${way.name} of a lock taken by hand-off settles at once while the subscriber connection is stalled`,
    async (env, kind) => {
      const holder = new RedisLock(await env.client(), "job");
      await holder.lock();
      const split = await proxiedSubscriber(env, kind);
      let done: Promise<void> | undefined;
      try {
        let stalled!: () => void;
        const inside = new Promise<void>((resolve) => stalled = resolve);
        done = way.use(new RedisLock(split.driver, "job"), async () => {
          assert.equal(await subscribers(env.server, CHANNEL), 1, "the channel is kept");
          split.proxy.stall();
          stalled();
        });
        const waiting = async () =>
          await queueLength(env) === 1 && await subscribers(env.server, CHANNEL) === 1;
        await until(waiting, "the waiter queued and subscribed");
        await holder.release(); // hands the lock to the waiter
        await Promise.race([inside, done]);
        await within(done, 1_000, way.name);
        split.proxy.resume();
        await until(async () => (await channels(env.server)).length === 0, "no channel left");
      } finally {
        split.proxy.resume();
        await done?.catch(() => {});
        await split.close();
      }
    },
  );
}

// Item 4: a wait never overruns blockingTimeout + 500 ms. The driver pauses
// the server (SIGSTOP) as soon as an attempt made at or after the deadline
// has been answered: the last attempt got its answer, and leaving the channel
// and the queue then find Redis silent. (Pausing it earlier, before the last
// attempt, leaves that attempt unanswered and today's code already settles
// at blockingTimeout + 500 ms.)
for (const fair of [true, false]) {
  eachClient(
    `${
      fair ? "fair" : "non-fair"
    }: a wait settles within blockingTimeout + 500 ms when Redis stops answering after the last attempt`,
    async (env) => {
      const holder = new RedisLock(await env.client(), "job", { fair });
      await holder.lock();
      const base = resolveDriver(await env.client());
      let deadline = Infinity;
      let paused = false;
      const pauseAfterDeadline = (answer: unknown) => {
        if (!paused && performance.now() >= deadline) {
          paused = true;
          env.server.pause();
        }
        return answer;
      };
      const driver: RedisDriver = {
        ...base,
        evalsha: (sha, keys, args) => base.evalsha(sha, keys, args).then(pauseAfterDeadline),
        eval: (source, keys, args) => base.eval(source, keys, args).then(pauseAfterDeadline),
      };
      try {
        const waiter = new RedisLock(driver, "job", { fair });
        deadline = performance.now() + 1_000;
        const settled = outcome(waiter.acquire({ blockingTimeout: 1_000 }));
        const result = await within(settled, 1_000 + 500 + SLACK, "acquire()");
        assert.ok(result === false || result instanceof Error, `acquire() gave ${result}`);
      } finally {
        paused = true;
        env.server.resume();
      }
    },
  );
}

/**
 * `driver` whose subscriber connection opens normally, but whose proxy
 * stalls as the first SUBSCRIBE is sent: the subscription is never confirmed.
 * `subscribing` resolves then.
 */
function stallAtSubscribe(split: ProxiedSubscriber): {
  driver: RedisDriver;
  subscribing: Promise<void>;
} {
  const { driver, proxy } = split;
  let subscribed!: () => void;
  const subscribing = new Promise<void>((resolve) => subscribed = resolve);
  return {
    driver: {
      ...driver,
      createSubscriber: async (events) => {
        const sub = await driver.createSubscriber(events);
        return {
          ...sub,
          subscribe: (channel) => {
            proxy.stall();
            subscribed();
            return sub.subscribe(channel);
          },
        };
      },
    },
    subscribing,
  };
}

// Item 7: a waiting subscription is re-checked (RECHECK_INTERVAL_MS; a fair waiter
// also refreshes its place every third of min(handoffTimeout, ttl)).
eachKind(
  "non-fair: a waiter whose subscription is never confirmed still finds the released lock within the re-check interval",
  async (env, kind) => {
    const holder = new RedisLock(await env.client(), "job", { fair: false });
    await holder.lock();
    const split = await proxiedSubscriber(env, kind);
    let acquired: Promise<boolean> | undefined;
    try {
      const { driver, subscribing } = stallAtSubscribe(split);
      const waiter = new RedisLock(driver, "job", { fair: false });
      acquired = waiter.acquire({ blockingTimeout: 10_000 });
      await subscribing; // its first attempt failed; its SUBSCRIBE is stuck
      await holder.release(); // the message is stuck too
      assert.equal(await within(acquired, RECHECK_INTERVAL_MS + 1_000, "acquire()"), true);
      await waiter.release();
    } finally {
      split.proxy.resume();
      await acquired?.catch(() => {});
      await split.close();
    }
  },
);

// The holder is another process, so its hand-off is published and sits in
// the stalled socket (a releaser in this process would hand over in memory).
for (const kind of TWO_KINDS) {
  test(`${kind.name}: fair: a waiter whose subscription is never confirmed keeps its place and takes up its hand-off`, async () => {
    const env = await testEnv(kind);
    const split = await proxiedSubscriber(env, kind);
    const order: string[] = [];
    const waits: Promise<unknown>[] = [];
    let holder: Child | undefined;
    try {
      const party = [env.server.url, "node-redis v6 RESP3", "job", "hold", "30000", "3000", "0"];
      holder = startChild("fixtures/fair_party.ts", party);
      await holder.waitFor("held");
      const { driver, subscribing } = stallAtSubscribe(split);
      const options = { handoffTimeout: 600 };
      const take = (name: string, lock: RedisLock) =>
        waits.push(
          lock.acquire({ blockingTimeout: 10_000 }).then(async (ok) => {
            order.push(ok ? name : `${name} timed out`);
            if (ok) await lock.release();
          }),
        );
      take("stalled", new RedisLock(driver, "job", options));
      await subscribing;
      await until(async () => await queueLength(env) === 1, "the stalled waiter queued");
      take("healthy", new RedisLock(await env.client(), "job", options));
      await until(async () => await queueLength(env) === 2, "the healthy waiter queued behind");
      await delay(2_000); // over three times the stalled waiter's handoffTimeout
      const releasedAt = performance.now();
      signal(holder, "SIGTERM");
      await holder.waitFor("released");
      await until(() => order.length > 0, "a waiter took the lock", 5_000);
      const took = performance.now() - releasedAt;
      assert.equal(order[0], "stalled", `the first to take the lock: ${order[0]}`);
      assert.ok(took < 1_000, `taken ${took.toFixed(0)} ms after the release`);
    } finally {
      split.proxy.resume();
      await Promise.allSettled(waits);
      if (holder) {
        signal(holder, "SIGKILL");
        await holder.exited;
      }
      await split.close();
      await env.close();
    }
  });
}

// Item 8b: extend(ttl) racing an in-flight renewal. The proxy holds
// extend(5000) on the wire until a renewal of the old length has been sent
// behind it: Redis runs extend() first, then the renewal, and the replies
// come back in that order.
eachKind(
  "extend() sets the lease for later renewals, also when a renewal is sent while it is in flight",
  async (env, kind) => {
    const proxy = await startProxy(env.server.port);
    const behind = await kind.connect(proxy.url);
    try {
      const driver = tracked(behind.client);
      const lock = new RedisLock(driver, "job", { ttl: 600 }); // renewed every 200 ms
      await lock.lock();
      await lock.extend(); // the script is loaded: each call is one command
      proxy.stall();
      const sent = driver.sent;
      const extended = lock.extend(5_000);
      await until(() => driver.sent > sent + 1, "a renewal sent after extend(5000)");
      proxy.resume();
      await extended;
      await delay(2 * 200); // two renewal periods of the old length
      const pttl = Number(await env.server.command("PTTL", "lock:{job}"));
      assert.ok(pttl > 3_000, `PTTL ${pttl} ms after extend(5000)`);
      await lock.release();
    } finally {
      proxy.resume();
      await behind.close();
      await proxy.close();
    }
  },
);

// Item 8d: a fair spin waiter polls at least every third of min(handoffTimeout, ttl).
eachClient(
  "fair: a spin waiter whose sleepTime exceeds handoffTimeout takes up its hand-off, before a later waiter",
  async (env) => {
    const options = { fair: true, handoffTimeout: 600 };
    const holder = new RedisLock(await env.client(), "job", options);
    await holder.lock();
    const order: string[] = [];
    const take = (name: string, lock: AnyLock, wait: object) =>
      lock.acquire({ blockingTimeout: 10_000, ...wait }).then(async (ok) => {
        order.push(ok ? name : `${name} timed out`);
        if (ok) await lock.release();
      });
    const spin = new RedisSpinLock(await env.client(), "job", options);
    const spinning = take("spin", spin, { sleepTime: 3_000 });
    await until(async () => await queueLength(env) === 1, "the spin waiter queued");
    const later = take("pubsub", new RedisLock(await env.client(), "job", options), {});
    await until(async () => await queueLength(env) === 2, "the Pub/Sub waiter queued behind");
    try {
      const releasedAt = performance.now();
      await holder.release();
      await until(() => order.length > 0, "a waiter took the lock", 5_000);
      const took = performance.now() - releasedAt;
      assert.equal(order[0], "spin", `the first to take the lock: ${order[0]}`);
      assert.ok(took < 600 + SLACK, `taken ${took.toFixed(0)} ms after the release`);
    } finally {
      await Promise.allSettled([spinning, later]);
    }
  },
);

// Item 8a: no TimeoutNegativeWarning. Node 20 does not warn about negative
// timeouts; Deno and Bun do, once per process, on stderr.
const warns = "Deno" in globalThis || "Bun" in globalThis;
test(
  "timed-out waits (fair and not, timeouts 0 to 50 ms) set no negative timer: no TimeoutNegativeWarning",
  { skip: warns ? false : "only Deno and Bun print TimeoutNegativeWarning" },
  async () => {
    const env = await testEnv();
    try {
      const [cmd, args] = runtimeCommand("fixtures/timed_out_waits.ts");
      const child = spawn(cmd, [...args, env.server.url, "node-redis v6 RESP3"]);
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => stdout += chunk);
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => stderr += chunk);
      const [code] = await once(child, "close"); // exited, and its output read
      assert.equal(code, 0, stderr);
      assert.match(stdout, /done/);
      assert.doesNotMatch(stderr, /TimeoutNegativeWarning/);
    } finally {
      await env.close();
    }
  },
);
