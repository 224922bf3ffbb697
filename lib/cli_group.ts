/**
 * The processes `redis-lock run` answers for: the command's process group
 * (the command runs as the leader of a new session, so its group id is its
 * pid), or with `--foreground` the command's own process only. Signals go to
 * all of them at once, and "gone" means no process of them can run again.
 *
 * @module
 */

import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";

/**
 * What to signal: a process group (`group: true`, `pid` is its id) or one
 * process.
 *
 * @example
 * ```ts
 * import type { Target } from "./cli_group.ts";
 *
 * const group: Target = { pid: 4242, group: true };
 * ```
 */
export interface Target {
  /** The process id, or the group id when `group` is set. */
  readonly pid: number;
  /** Whether the whole process group is meant. */
  readonly group: boolean;
}

/**
 * The argument for kill(1) or `process.kill()`: `-pgid` for a group.
 *
 * @param target The group or process.
 * @returns The pid, negated for a group.
 *
 * @example
 * ```ts
 * import { killArgument } from "./cli_group.ts";
 *
 * console.log(killArgument({ pid: 4242, group: true })); // -4242
 * ```
 */
export function killArgument(target: Target): number {
  return target.group ? -target.pid : target.pid;
}

/**
 * Sends `signal` to the target.
 *
 * @param target The group or process.
 * @param signal A signal name, such as `"SIGTERM"`.
 * @returns false when there was nobody to signal.
 *
 * @example
 * ```ts
 * import { sendSignal } from "./cli_group.ts";
 *
 * sendSignal({ pid: 4242, group: true }, "SIGTERM");
 * ```
 */
export function sendSignal(target: Target, signal: string): boolean {
  try {
    // Not ChildProcess.kill(): Deno's then reports the signal sent as the
    // cause of the exit, even when the command caught it and exited by itself.
    process.kill(killArgument(target), signal);
    return true;
  } catch {
    return false; // ESRCH: gone
  }
}

/**
 * Whether any process of the target can still run: a process that has
 * exited but was not reaped yet (a zombie, for example one whose new parent
 * never reaps it) does not count.
 *
 * @param target The group or process.
 * @returns true while a live process remains.
 *
 * @example
 * ```ts
 * import { isRunning } from "./cli_group.ts";
 *
 * console.log(isRunning({ pid: 4242, group: true }));
 * ```
 */
export function isRunning(target: Target): boolean {
  try {
    process.kill(killArgument(target), 0);
  } catch (err) {
    // EPERM: a process we may not signal (it changed its uid) still runs.
    return (err as { code?: string }).code === "EPERM";
  }
  const live = liveProcesses(target);
  return live === undefined || live.length > 0;
}

/**
 * The live (not zombie) processes of the target, read from `/proc`; the
 * pids. `undefined` where there is no `/proc` (macOS): then only kill(2)
 * can tell, and it counts zombies as running.
 *
 * @param target The group or process.
 * @returns The pids, or `undefined` without `/proc`.
 *
 * @example
 * ```ts
 * import { liveProcesses } from "./cli_group.ts";
 *
 * console.log(liveProcesses({ pid: 4242, group: true }));
 * ```
 */
export function liveProcesses(target: Target): number[] | undefined {
  if (!target.group) {
    const stat = readStat(`${target.pid}`);
    if (stat === null) return [];
    return stat === undefined ? undefined : stat.state === "Z" ? [] : [target.pid];
  }
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return undefined;
  }
  const live: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat && stat.pgrp === target.pid && stat.state !== "Z" && stat.state !== "X") {
      live.push(Number(entry));
    }
  }
  return live;
}

/** A process's state and group from /proc; null when gone, undefined without /proc. */
function readStat(pid: string): { state: string; pgrp: number } | null | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code;
    return code === "ENOENT" || code === "ESRCH" ? (hasProc() ? null : undefined) : null;
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0], pgrp: Number(fields[2]) };
}

let procMounted: boolean | undefined;

function hasProc(): boolean {
  if (procMounted === undefined) {
    try {
      readFileSync("/proc/self/stat");
      procMounted = true;
    } catch {
      procMounted = false;
    }
  }
  return procMounted;
}

/**
 * Waits until no process of the target runs, checking every `every` ms.
 *
 * @param target The group or process.
 * @param ms How long to wait at most.
 * @param every How often to look.
 * @returns true once gone; false if something still runs after `ms`.
 *
 * @example
 * ```ts
 * import { waitGone } from "./cli_group.ts";
 *
 * if (!(await waitGone({ pid: 4242, group: true }, 1_000))) console.log("still running");
 * ```
 */
export async function waitGone(target: Target, ms: number, every = 20): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (isRunning(target)) {
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, every));
  }
  return true;
}
