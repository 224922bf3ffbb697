/**
 * Exclusion soak: worker processes take one fencing lock over and over
 * (modes and clients mixed), logging each critical section, while this
 * controller SIGKILLs some of them (a killed worker is replaced) and
 * SIGSTOPs others for a while. A holder stopped past its lease WILL overlap
 * with the next holder: that is what fencing tokens are for. The checker
 * (tests/_fault_log.ts) then proves from the log that:
 *
 * - no two holders overlapped unless the older one had been stopped or
 *   killed long enough before for its lease to have run out;
 * - a storage guarded by the tokens (replayed from the log in its true order:
 *   keep the highest token, refuse a lower one) refused every stale write
 *   and accepted every write of the newest holder;
 * - tokens grow with the order of acquisition.
 *
 * Run:  deno run -A bench/soak.ts [--processes 4] [--seconds 20] [--kills 4] [--pauses 4]
 *         [--ttl 1000] [--count 100000] [--modes "RedisLock fair,RedisLock non-fair,RedisSpinLock"]
 *
 * It starts its own redis-server on a free port and exits 1 if anything was violated.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CLIENT_KINDS } from "../tests/_clients.ts";
import { within } from "../tests/_env.ts";
import { MODES } from "../tests/_fault_modes.ts";
import { type Fleet, startFleet } from "../tests/_fault_fleet.ts";
import { checkLog, parseLog, type Report } from "../tests/_fault_log.ts";
import { startRedis } from "../tests/_redis.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    processes: { type: "string", default: "4" },
    seconds: { type: "string", default: "20" },
    kills: { type: "string", default: "4" },
    pauses: { type: "string", default: "4" },
    ttl: { type: "string", default: "1000" },
    count: { type: "string", default: "100000" },
    modes: { type: "string", default: MODES.map((m) => m.name).join(",") },
  },
});
const PROCESSES = Number(values.processes);
const SECONDS = Number(values.seconds);
const KILLS = Number(values.kills);
const PAUSES = Number(values.pauses);
const TTL = Number(values.ttl);
const MODE_NAMES = values.modes.split(",").map((m) => m.trim());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Kills and pauses at random moments spread over the run, in random order. */
function schedule(): { at: number; fault: "kill" | "pause" }[] {
  const faults = [
    ...Array<"kill">(KILLS).fill("kill"),
    ...Array<"pause">(PAUSES).fill("pause"),
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

function print(report: Report, pauses: number[]): void {
  const longPauses = pauses.filter((ms) => ms > TTL).length;
  const rows: [string, string | number][] = [
    ["processes", `${PROCESSES} at a time (modes: ${MODE_NAMES.join(", ")})`],
    ["clients", CLIENT_KINDS.map((k) => k.name).join(", ")],
    ["duration", `${SECONDS} s, ttl ${TTL} ms`],
    ["acquisitions checked", report.acquisitions],
    ["writes checked", report.writes],
    ["kills (SIGKILL)", `${report.kills} (${report.holdersKilled} inside a critical section)`],
    [
      "pauses (SIGSTOP/SIGCONT)",
      `${pauses.length} of ${pauses.map((ms) => (ms / 1000).toFixed(1)).join(", ")} s ` +
      `(${longPauses} past the ttl); ${report.pauses} SIGSTOPs sent, ` +
      `${report.holdersPaused} hitting a holder in its section`,
    ],
    ["overlaps between live holders", report.violations.length],
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
});
const pauses: number[] = [];
let ok = false;
try {
  console.log(`soak: ${PROCESSES} workers up, running ${SECONDS} s (log: ${file})`);
  for (const { at, fault } of schedule()) {
    await sleep(Math.max(0, started + at - Date.now()));
    if (fault === "kill") await fleet.kill(await victim(fleet));
    else {
      // From inside the lease to well past it: only the long ones can overlap.
      const ms = Math.round(TTL * (0.5 + Math.random() * 2));
      pauses.push(ms);
      await pauseHolder(fleet, ms);
    }
  }
  const end = Math.max(0, started + SECONDS * 1000 - Date.now());
  await within(fleet.finished(), end + 60_000, "the workers, 60 s after the end");
  const report = checkLog(parseLog(readFileSync(file, "utf8")), { ttl: TTL });
  print(report, pauses);
  ok = report.violations.length === 0 && report.tokensMonotonic &&
    report.currentWritesRejected === 0;
  console.log(ok ? "result: OK" : "result: VIOLATIONS FOUND");
} finally {
  await fleet.stop();
  await server.stop();
  if (!process.env.SOAK_KEEP_LOG) rmSync(dir, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
