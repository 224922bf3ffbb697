// Issue 13, item 3: every key a fair lock writes expires when nobody uses the
// name any more. A holder and a queued waiter that crash together leave
// nothing behind after ttl + handoffTimeout (plus a margin), except the
// fencing counter, which is meant to outlive them.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { until } from "./harness/env.ts";
import { clientKind } from "./harness/clients.ts";
import { type Child, startChild } from "./harness/process.ts";
import { startRedis } from "./harness/redis.ts";

const TTL = 1_000;
const HANDOFF_TIMEOUT = 1_000;
const MARGIN = 1_000;

/** Signals `child` by pid (Deno's `ChildProcess.kill()` acts only once). */
function kill(child: Child): void {
  const { pid, exitCode, signalCode } = child.process;
  if (pid === undefined || exitCode !== null || signalCode !== null) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // it exited meanwhile
  }
}

for (const kind of ["node-redis v6 RESP3", "ioredis v5"].map(clientKind)) {
  for (const fencing of [false, true]) {
    const mode = fencing ? "fair, fencing" : "fair";
    const left = fencing ? "only the fencing counter" : "no key";
    test(
      `${kind.name}: ${mode}: a holder and a queued waiter killed together leave ${left} ` +
        "after ttl + handoffTimeout",
      async () => {
        const server = await startRedis();
        const children: Child[] = [];
        const party = (role: string) => {
          const args = [server.url, kind.name, "job", role, `${TTL}`, `${HANDOFF_TIMEOUT}`];
          const child = startChild("fixtures/fair_party.ts", [...args, fencing ? "1" : "0"]);
          children.push(child);
          return child;
        };
        try {
          await party("hold").waitFor("held");
          party("wait");
          const queued = async () =>
            await server.command("ZCOUNT", "lock:{job}:queue", "(0", "+inf") === 1;
          await until(queued, "the waiter queued");
          for (const key of ["lock:{job}:queue"]) {
            const pttl = await server.command("PTTL", key);
            assert.ok(Number(pttl) > 0, `PTTL ${key} is ${pttl} while the waiter is queued`);
          }
          children.forEach(kill);
          await Promise.all(children.map((child) => child.exited));
          const remain = fencing ? ["lock:{job}:fence"] : [];
          const keys = async () => ((await server.command("KEYS", "*")) as string[]).sort();
          await until(
            async () => JSON.stringify(await keys()) === JSON.stringify(remain),
            `only ${JSON.stringify(remain)} left`,
            TTL + HANDOFF_TIMEOUT + MARGIN,
          ).catch(async (err) => {
            throw new Error(`${err.message}; keys: ${JSON.stringify(await keys())}`);
          });
        } finally {
          children.forEach(kill);
          await Promise.all(children.map((child) => child.exited));
          await server.stop();
        }
      },
    );
  }
}
