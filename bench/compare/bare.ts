/**
 * The protocol floor: `RedisLock`'s own fair-mode scripts (`FAIR_ACQUIRE`,
 * `RELEASE`) driven by the least client code that can use them, as a
 * reference row next to the hand-off floor. Between the two floors lies what
 * the protocol costs (Redis clock reads, liveness deadlines, queue expiry,
 * entry ids, a grant published on the waiter's process's channel); between
 * this row and `RedisLock` lies what the library's client path costs
 * (deadlines, signals, leases, local hand-offs, stale-grant checks).
 *
 * Each contender has its own command connection and its own subscriber
 * connection, subscribed once to its own hand-off channel (its token's mark
 * is its own, so a release always publishes, in one process as across
 * processes). acquire: one `EVALSHA` (`FAIR_ACQUIRE`, joining the queue);
 * when queued, wait for the `grant` naming its token. release: one
 * `EVALSHA` (`RELEASE`). No renewal, deadline, signal, liveness refresh or
 * stale-grant check: benchmark code, not a lock to use. Like the hand-off
 * floor's `BLPOP`, a wait is bounded (10 s), then the attempt is made again
 * (it finds the key holding its token if the grant was made but lost).
 *
 * @module
 */

import { createClient } from "redis";
import { Redis } from "ioredis";
import { FAIR_ACQUIRE, QUEUE_SLACK_MS, RELEASE } from "../../lib/redis/_scripts.ts";
import { lockKeys } from "../../lib/redis/_keys.ts";
import { lockSettings } from "../../lib/lock/_settings.ts";
import { type ClientKind, type RawConnection, rawConnection } from "./clients.ts";
import type { Contender, LockSpec } from "./locks.ts";

// `new RedisLock(client, name)`'s ttl and handoffTimeout.
const DEFAULTS = lockSettings(undefined, { fair: true });
const TTL = `${DEFAULTS.ttl}`;
const HANDOFF = `${DEFAULTS.handoffTimeout}`;
const WAIT_MS = 10_000;

/** A subscriber connection that calls `listener` with each message of `channel`. */
async function subscribe(
  kind: ClientKind,
  url: string,
  channel: string,
  listener: (message: string) => void,
): Promise<() => Promise<void>> {
  if (kind === "node-redis") {
    const sub = createClient({ url });
    sub.on("error", () => {});
    await sub.connect();
    await sub.subscribe(channel, listener);
    return async () => void await sub.close();
  }
  const sub = new Redis(url, { lazyConnect: true });
  sub.on("error", () => {});
  await sub.connect();
  sub.on("message", (_channel: string, message: string) => listener(message));
  await sub.subscribe(channel);
  return async () => void await sub.quit();
}

async function openBare(kind: ClientKind, url: string, name: string): Promise<Contender> {
  const conn: RawConnection = await rawConnection(kind, url);
  const mark = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
  const keys = lockKeys(name);
  const load = async (source: string) => String(await conn.call(["SCRIPT", "LOAD", source]));
  const [acquireSha, releaseSha] = await Promise.all([
    load(FAIR_ACQUIRE.source),
    load(RELEASE.source),
  ]);
  let token = "";
  let granted = false;
  let wake: ((woken: boolean) => void) | undefined;
  const stop = await subscribe(kind, url, `${keys.channel}:${mark}`, (message) => {
    if (message.split(" ")[1] !== token) return;
    granted = true;
    wake?.(true);
  });
  const fairKeys = [keys.key, keys.fence, keys.queue];
  return {
    async acquire() {
      token = `${crypto.randomUUID()}@${mark}.${TTL}`;
      granted = false;
      const args = [token, TTL, "0", HANDOFF, "1", `${QUEUE_SLACK_MS}`];
      for (;;) {
        const reply = await conn.call(["EVALSHA", acquireSha, "3", ...fairKeys, ...args]);
        if (Number((reply as unknown[])[0]) === 1 || granted) return true;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const woken = await new Promise<boolean>((resolve) => {
          wake = resolve;
          timer = setTimeout(() => resolve(false), WAIT_MS);
        });
        clearTimeout(timer);
        wake = undefined;
        if (woken) return true;
      }
    },
    async release() {
      const done = await conn.call([
        "EVALSHA",
        releaseSha,
        "4",
        ...fairKeys,
        keys.racers,
        token,
        keys.channel,
        HANDOFF,
        "PUBLISH",
      ]);
      if (Number(done) === 0) throw new Error(`bare: ${token} did not hold ${keys.key}`);
    },
    async close() {
      await Promise.allSettled([conn.close(), stop()]);
    },
  };
}

/** The protocol floor as a lock of the comparison, on `kind`. */
export function protocolFloor(id: string, kind: ClientKind): LockSpec {
  return {
    id,
    label: "protocol floor",
    client: kind,
    settings: "RedisLock's fair scripts, bare client (bench/compare/bare.ts)",
    open: (url, name) => openBare(kind, url, name),
  };
}
