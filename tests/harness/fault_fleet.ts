/**
 * A fleet of worker processes (tests/fixtures/fault_worker.ts) contending for
 * one lock, and the faults a controller injects into them: SIGKILL (the
 * worker is then replaced) and SIGSTOP/SIGCONT. Every fault is logged to the
 * shared file for the checker in tests/_fault_log.ts.
 */

import { appendFileSync, readFileSync } from "node:fs";
import { type Child, startChild } from "./process.ts";

/** How the workers of a fleet run. */
export interface FleetOptions {
  readonly url: string;
  /** The shared log. */
  readonly file: string;
  /** Lock modes (see tests/_fault_modes.ts), given to workers in turn. */
  readonly modes: readonly string[];
  /** Client kinds (see tests/_clients.ts), given to workers in turn. */
  readonly kinds: readonly string[];
  readonly processes: number;
  readonly name: string;
  readonly ttl: number;
  /** The workers' handoffTimeout (fair mode). @default {ttl} */
  readonly handoffTimeout?: number;
  /** Critical sections per worker before it exits. */
  readonly count: number;
  /** Epoch ms after which workers stop taking the lock. */
  readonly until: number;
}

/** A running fleet. */
export interface Fleet {
  /** The workers running now. */
  readonly workers: readonly Child[];
  /** The worker in a critical section now, according to the log, if any. */
  holder(): Child | undefined;
  /** The worker whose lock token `token` is (a queue entry, the key's value), if any. */
  owner(token: string): Child | undefined;
  /** SIGKILLs `worker` and starts a replacement (unless the run is over). */
  kill(worker: Child): Promise<void>;
  /** SIGSTOPs `worker`. */
  suspend(worker: Child): void;
  /** SIGCONTs `worker`. */
  resume(worker: Child): void;
  /** Resolves once every worker has exited; rejects if one failed (not killed by us). */
  finished(): Promise<void>;
  /** SIGKILLs whatever still runs (cleanup). */
  stop(): Promise<void>;
}

const stamp = () => (performance.timeOrigin + performance.now()).toFixed(3);

/**
 * Sends `signal` by pid: Deno's `ChildProcess.kill()` ignores every call
 * after the first (so a SIGCONT after a SIGSTOP would be lost).
 */
function signal(worker: Child, name: "SIGKILL" | "SIGSTOP" | "SIGCONT"): void {
  const { pid, exitCode, signalCode } = worker.process;
  if (pid === undefined || exitCode !== null || signalCode !== null) return;
  try {
    process.kill(pid, name);
  } catch {
    // it exited meanwhile
  }
}

/** Starts `options.processes` workers and resolves once each is connected. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const workers: Child[] = [];
  const failures: string[] = [];
  let spawned = 0;
  const spawn = () => {
    const i = spawned++;
    const mode = options.modes[i % options.modes.length];
    const kind = options.kinds[i % options.kinds.length];
    const { url, file, name, ttl, count, until } = options;
    const handoff = `${options.handoffTimeout ?? ttl}`;
    const args = [url, file, mode, kind, name, `${ttl}`, `${count}`, `${until}`, handoff];
    const worker = startChild("fixtures/fault_worker.ts", args);
    workers.push(worker);
    worker.exited.then((code) => {
      if (code !== 0 && workers.includes(worker)) {
        failures.push(`worker ${worker.process.pid} (${mode}, ${kind}) exited with ${code}`);
      }
    });
    return worker;
  };
  for (let i = 0; i < options.processes; i++) spawn();
  await Promise.all(workers.map((w) => w.waitFor("ready")));
  const forget = (worker: Child) => workers.splice(workers.indexOf(worker), 1);
  return {
    workers,
    holder() {
      const open = new Map<string, string>(); // token -> pid
      for (const line of readFileSync(options.file, "utf8").split("\n")) {
        const [kind, token, , pid] = line.split(" ");
        if (kind === "enter") open.set(token, pid);
        if (kind === "exit") open.delete(token);
      }
      const pids = new Set(open.values());
      return workers.find((w) => pids.has(`${w.process.pid}`));
    },
    owner(token) {
      // Each worker printed "ready <mark>": its tokens, and only its, contain the mark.
      return workers.find((w) => {
        const mark = w.output().match(/^ready (\S+)$/m)?.[1];
        return mark !== undefined && token.includes(mark);
      });
    },
    async kill(worker) {
      forget(worker);
      appendFileSync(options.file, `kill ${worker.process.pid} ${stamp()}\n`);
      signal(worker, "SIGKILL");
      await worker.exited;
      if (Date.now() < options.until) await spawn().waitFor("ready");
    },
    suspend(worker) {
      appendFileSync(options.file, `stop ${worker.process.pid} ${stamp()}\n`);
      signal(worker, "SIGSTOP");
    },
    resume(worker) {
      appendFileSync(options.file, `cont ${worker.process.pid} ${stamp()}\n`);
      signal(worker, "SIGCONT");
    },
    async finished() {
      await Promise.all(workers.map((w) => w.exited));
      if (failures.length > 0) throw new Error(failures.join("\n"));
    },
    async stop() {
      const running = workers.splice(0);
      for (const w of running) signal(w, "SIGKILL");
      await Promise.all(running.map((w) => w.exited));
    },
  };
}
