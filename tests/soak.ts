/**
 * Exclusion soak: worker processes take one fencing lock over and over
 * (modes and clients mixed), logging each critical section, while this
 * controller SIGKILLs some of them (a killed worker is replaced), SIGSTOPs
 * holders for a while, and SIGSTOPs the waiter first in the fair queue
 * across a release, so that the lock is handed to it while it is stopped and
 * the unused hand-off runs out (after handoffTimeout) and passes to another
 * worker before it resumes. A holder stopped past its lease WILL overlap
 * with the next holder: that is what fencing tokens are for. A waiter
 * resumed with a stale hand-off must not believe it holds the lock. The
 * checker (tests/_fault_log.ts) then proves from the log that:
 *
 * - no two holders overlapped unless the older one had been stopped or
 *   killed long enough before for its lease to have run out;
 * - every acquire() that resolved true was backed by Redis: right after it,
 *   each worker asks Redis whether it owns the key and logs "unbacked" when
 *   not while its lease is still live by its own clock (see
 *   tests/fixtures/fault_worker.ts for why that cannot false-alarm);
 * - a storage guarded by the tokens (replayed from the log in its true order:
 *   keep the highest token, refuse a lower one) refused every stale write
 *   and accepted every write of the newest holder;
 * - tokens grow with the order of acquisition.
 *
 * Run:  deno run -A tests/soak.ts [--processes 4] [--seconds 20] [--kills 4] [--pauses 4]
 *         [--handoff-pauses 6] [--ttl 1000] [--handoff-timeout 500] [--count 100000]
 *         [--modes "RedisLock fair,RedisLock non-fair,RedisSpinLock"]
 *
 * Workers take the modes in turn (4 processes: two fair, one non-fair, one
 * spin lock). It starts its own redis-server on a free loopback port, stops
 * by itself after --seconds (plus at most 60 s for the workers to finish)
 * and exits 1 if anything was violated.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CLIENT_KINDS } from "./harness/clients.ts";
import { within } from "./harness/env.ts";
import { MODES } from "./harness/fault_modes.ts";
import { lockKeys } from "../lib/redis/_keys.ts";
import { type Fleet, startFleet } from "./harness/fault_fleet.ts";
import { checkLog, parseLog, type Report } from "./harness/fault_log.ts";
import { type RedisServer, startRedis } from "./harness/redis.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    processes: { type: "string", default: "4" },
    seconds: { type: "string", default: "20" },
    kills: { type: "string", default: "4" },
    pauses: { type: "string", default: "4" },
    "handoff-pauses": { type: "string", default: "6" },
    ttl: { type: "string", default: "1000" },
    "handoff-timeout": { type: "string", default: "500" },
    count: { type: "string", default: "100000" },
    modes: { type: "string", default: "RedisLock fair,RedisLock non-fair,RedisSpinLock" },
  },
});
const PROCESSES = Number(values.processes);
const SECONDS = Number(values.seconds);
const KILLS = Number(values.kills);
const PAUSES = Number(values.pauses);
const HANDOFF_PAUSES = Number(values["handoff-pauses"]);
const TTL = Number(values.ttl);
const HANDOFF = Number(values["handoff-timeout"]);
const KEYS = lockKeys("soak");
for (const mode of values.modes.split(",")) {
  if (!MODES.some((m) => m.name === mode.trim())) throw new Error(`no mode ${mode}`);
}
const MODE_NAMES = values.modes.split(",").map((m) => m.trim());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type FaultKind = "kill" | "pause" | "handoff";

/** Kills and pauses at random moments spread over the run, in random order. */
function schedule(): { at: number; fault: FaultKind }[] {
  const faults = [
    ...Array<FaultKind>(KILLS).fill("kill"),
    ...Array<FaultKind>(PAUSES).fill("pause"),
    ...Array<FaultKind>(HANDOFF_PAUSES).fill("handoff"),
  ].sort(() => Math.random() - 0.5);
  const slot = (SECONDS * 1000 * 0.85) / (faults.length + 1);
  return faults.map((fault, i) => ({ at: slot * (i + 0.5 + Math.random()), fault }));
}

/** The worker to kill: the holder when there is one (usually), else anyone. */
async function victim(fleet: Fleet): Promise<Fleet["workers"][number]> {
  for (let i = 0; i < 100 && !fleet.holder(); i++) await sleep(5);
  const anyone = fleet.workers[Math.floor(Math.random() * fleet.workers.length)];
  return Math.random() < 0.8 ? fleet.holder() ?? anyone : anyone;
}

/**
 * Stops the holder for `ms`. Sections are short, so the worker read from the
 * log may have left its section by the time it stops: then it is resumed at
 * once and another try is made (a stopped worker's log is frozen, so this is
 * checked exactly).
 */
async function pauseHolder(fleet: Fleet, ms: number): Promise<void> {
  for (let tries = 0; tries < 50; tries++) {
    const worker = fleet.holder();
    if (!worker) {
      await sleep(2);
      continue;
    }
    fleet.suspend(worker);
    await sleep(1); // a line being appended as the signal landed is in the file now
    if (fleet.holder() === worker || tries === 49) {
      await sleep(ms);
      return fleet.resume(worker);
    }
    fleet.resume(worker);
  }
}

/** How a pause of a queued waiter went (see `pauseAcrossHandoff`). */
interface HandoffPause {
  /** The lock was handed to the waiter while it was stopped. */
  readonly handed: boolean;
  /** Another worker held the lock, after the hand-off ran out, when it resumed. */
  readonly superseded: boolean;
  readonly ms: number;
}

/** The lock's owner (token or null) and whether `token` is still queued, read atomically. */
async function ownerAndQueued(server: RedisServer, token: string) {
  const [owner, score] = await server.command(
    "EVAL",
    "return {redis.call('GET', KEYS[1]), redis.call('ZSCORE', KEYS[2], ARGV[1])}",
    "2",
    KEYS.key,
    KEYS.queue,
    token,
  ) as [string | null, string | null];
  return { owner, queued: score !== null };
}

/**
 * Stops the waiter first in the fair queue, so that the next release hands
 * the lock to it while it is stopped, and keeps it stopped until the unused
 * hand-off has run out (handoffTimeout) and another worker holds the lock,
 * or 2 ttl more. It then resumes with a grant message that is stale. A pause
 * whose waiter left the queue before any hand-off (its liveness ran out
 * first, or nobody released for 2 ttl) is resumed then and says so.
 */
async function pauseAcrossHandoff(
  fleet: Fleet,
  server: RedisServer,
): Promise<HandoffPause | undefined> {
  for (let tries = 0; tries < 500; tries++) {
    // The oldest entry: waiters' tokens score > 0 (their `!` deadlines < 0).
    const [head] = await server.command(
      "ZRANGEBYSCORE",
      KEYS.queue,
      "(0",
      "+inf",
      "LIMIT",
      "0",
      "1",
    ) as string[];
    const worker = head === undefined ? undefined : fleet.owner(head);
    if (!worker) {
      await sleep(5);
      continue;
    }
    fleet.suspend(worker);
    const stoppedAt = performance.now();
    if (!(await ownerAndQueued(server, head)).queued) { // handed or gone before the stop
      fleet.resume(worker);
      continue;
    }
    let handedAt: number | undefined;
    let superseded = false;
    for (;;) {
      await sleep(5);
      const { owner, queued } = await ownerAndQueued(server, head);
      const t = performance.now();
      if (handedAt === undefined && owner === head) handedAt = t;
      if (handedAt === undefined) {
        if (!queued || t - stoppedAt > 2 * TTL) break; // dropped as dead, or no release
      } else if (t - handedAt > HANDOFF && owner !== null && owner !== head) {
        superseded = true;
        break;
      } else if (t - handedAt > HANDOFF + 2 * TTL) break;
    }
    fleet.resume(worker);
    return { handed: handedAt !== undefined, superseded, ms: performance.now() - stoppedAt };
  }
  return undefined;
}

function print(report: Report, pauses: number[], handoffs: HandoffPause[]): void {
  const longPauses = pauses.filter((ms) => ms > TTL).length;
  const rows: [string, string | number][] = [
    ["processes", `${PROCESSES} at a time (modes: ${MODE_NAMES.join(", ")})`],
    ["clients", CLIENT_KINDS.map((k) => k.name).join(", ")],
    ["duration", `${SECONDS} s, ttl ${TTL} ms, handoffTimeout ${HANDOFF} ms`],
    ["acquisitions checked", report.acquisitions],
    ["writes checked", report.writes],
    ["kills (SIGKILL)", `${report.kills} (${report.holdersKilled} inside a critical section)`],
    [
      "pauses (SIGSTOP/SIGCONT)",
      `${pauses.length} of ${pauses.map((ms) => (ms / 1000).toFixed(1)).join(", ")} s ` +
      `(${longPauses} past the ttl); ${report.pauses} SIGSTOPs sent, ` +
      `${report.holdersPaused} hitting a holder in its section`,
    ],
    [
      "pauses of the first queued waiter",
      `${handoffs.length}: ${handoffs.filter((h) => h.handed).length} straddled a hand-off ` +
      `to it, ${handoffs.filter((h) => h.superseded).length} of them resumed after another ` +
      `worker took the lock (${handoffs.map((h) => (h.ms / 1000).toFixed(1)).join(", ")} s)`,
    ],
    ["overlaps between live holders", report.liveOverlaps],
    ["acquisitions Redis did not back", report.unbacked],
    ["other violations", report.violations.length - report.liveOverlaps - report.unbacked],
    ["holders overlapped after their lease", report.staleHolders],
    ["  sections that overlapped them", report.explainedOverlaps],
    ["stale writes rejected", report.staleWritesRejected],
    ["  of which signal already aborted", report.staleWritesSignalled],
    ["current holder's writes rejected", report.currentWritesRejected],
    ["tokens monotonic", report.tokensMonotonic ? "yes" : "no"],
    ["longest wait after a holder kill", `${report.longestWaitAfterKill.toFixed(0)} ms`],
  ];
  for (const [what, value] of rows) console.log(`${what.padEnd(36)} ${value}`);
  for (const violation of report.violations) console.log(`VIOLATION: ${violation}`);
}

const server = await startRedis();
const dir = mkdtempSync(join(tmpdir(), "soak-"));
const file = join(dir, "log");
writeFileSync(file, "");
const started = Date.now();
const fleet = await startFleet({
  url: server.url,
  file,
  modes: MODE_NAMES,
  kinds: CLIENT_KINDS.map((k) => k.name),
  processes: PROCESSES,
  name: "soak",
  ttl: TTL,
  count: Number(values.count),
  until: started + SECONDS * 1000,
  handoffTimeout: HANDOFF,
});
const pauses: number[] = [];
const handoffs: HandoffPause[] = [];
let ok = false;
try {
  console.log(`soak: ${PROCESSES} workers up, running ${SECONDS} s (log: ${file})`);
  for (const { at, fault } of schedule()) {
    await sleep(Math.max(0, started + at - Date.now()));
    if (fault === "kill") await fleet.kill(await victim(fleet));
    else if (fault === "handoff") {
      const pause = await pauseAcrossHandoff(fleet, server);
      if (pause) handoffs.push(pause);
    } else {
      // From inside the lease to well past it: only the long ones can overlap.
      const ms = Math.round(TTL * (0.5 + Math.random() * 2));
      pauses.push(ms);
      await pauseHolder(fleet, ms);
    }
  }
  const end = Math.max(0, started + SECONDS * 1000 - Date.now());
  await within(fleet.finished(), end + 60_000, "the workers, 60 s after the end");
  const report = checkLog(parseLog(readFileSync(file, "utf8")), {
    ttl: TTL,
    handoffTimeout: HANDOFF,
  });
  print(report, pauses, handoffs);
  ok = report.violations.length === 0 && report.tokensMonotonic &&
    report.currentWritesRejected === 0;
  console.log(ok ? "result: OK" : "result: VIOLATIONS FOUND");
} finally {
  await fleet.stop();
  await server.stop();
  if (!process.env.SOAK_KEEP_LOG) rmSync(dir, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
