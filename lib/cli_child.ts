/**
 * The command that `redis-lock run` guards. It runs in a session and process
 * group of its own (so a terminal's Ctrl-C reaches `redis-lock` only, which
 * passes it on once), and every signal, stop and clean-up goes to its whole
 * group: its children and grandchildren too. It is started through a gate:
 * `/bin/sh` blocked on a pipe, which `exec`s the command only once the
 * watchdog knows the group and the lock is confirmed; if `redis-lock` dies
 * before that, the gate exits and the command never runs. When the command
 * exits while processes it started still run in its group, those are
 * stopped (SIGTERM, SIGKILL after the grace period) before the lock is
 * released.
 *
 * With `foreground`, the command stays in `redis-lock`'s process group (the
 * terminal's foreground group, so it can read the terminal and be stopped
 * with Ctrl-Z); then only its own process is signalled, and signals a
 * terminal sends to the whole group are not passed on again.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import type { Writable } from "node:stream";
import { EXIT_CODES, messageOf, printError, signalExitCode } from "./cli_exit.ts";
import { formatDuration } from "./cli_duration.ts";
import { isRunning, sendSignal, type Target } from "./cli_group.ts";
import { type SignalTrap, TERMINAL_SIGNALS } from "./cli_signals.ts";
import { startWatchdog, type Watchdog } from "./cli_watchdog.ts";

/** The gate: waits for "go" on fd 3, closes it, and becomes the command. */
const GATE = `IFS= read -r go <&3; exec 3<&-; [ "$go" = go ] || exit 0; exec "$@"`;

/** How long to wait for processes to vanish after SIGKILL before giving up. */
const AFTER_KILL_MS = 2_000;

/**
 * How to run the command; see {@linkcode superviseChild}.
 *
 * @example
 * ```ts
 * import type { ChildOptions } from "./cli_child.ts";
 * import { trapSignals } from "./cli_signals.ts";
 *
 * const options: ChildOptions = {
 *   command: ["make", "deploy"],
 *   env: { PATH: "/usr/bin:/bin" },
 *   killAfter: 10_000,
 *   foreground: false,
 *   quiet: false,
 *   signals: trapSignals(),
 *   mayStart: () => true,
 *   mayContinue: () => true,
 * };
 * ```
 */
export interface ChildOptions {
  /** The program and its arguments. */
  readonly command: readonly string[];
  /** The command's whole environment. */
  readonly env: Readonly<Record<string, string>>;
  /** How long to wait after SIGTERM before SIGKILL, in ms. */
  readonly killAfter: number;
  /** Keep the command in `redis-lock`'s process group (`--foreground`). */
  readonly foreground: boolean;
  /** No message about leftover processes. */
  readonly quiet: boolean;
  /** Caught signals, forwarded to the command. */
  readonly signals: SignalTrap;
  /** Asked once the watchdog is armed, just before the command starts: false cancels it. */
  mayStart(): boolean;
  /**
   * Asked when `redis-lock` resumes after Ctrl-Z (SIGCONT): false means the
   * lease may have run out meanwhile, and the stopped command is SIGKILLed
   * instead of resumed.
   */
  mayContinue(): boolean;
}

/**
 * How the command ended.
 *
 * @example
 * ```ts
 * import type { ChildOutcome } from "./cli_child.ts";
 *
 * const outcome: ChildOutcome = { code: 0, started: true, killedStopped: false };
 * ```
 */
export interface ChildOutcome {
  /**
   * The command's exit code; 128 + the signal number when a signal ended it;
   * 127 when it was not found and 126 when it could not be executed.
   */
  readonly code: number;
  /** Whether the command was started (false when `mayStart()` said no, or it was not found). */
  readonly started: boolean;
  /** Whether it was SIGKILLed on resuming because `mayContinue()` said no. */
  readonly killedStopped: boolean;
}

/**
 * A running command; see {@linkcode superviseChild}.
 *
 * @example
 * ```ts
 * import type { Supervision } from "./cli_child.ts";
 *
 * declare const supervision: Supervision;
 * supervision.stop();
 * const { code } = await supervision.outcome;
 * ```
 */
export interface Supervision {
  /**
   * Stops the command: SIGTERM now, SIGKILL at `killBy` (a
   * `performance.now()` time; default: the grace period from now). Called
   * again, it can only bring SIGKILL forward. Before the command started, it
   * keeps it from starting.
   */
  stop(killBy?: number): void;
  /** Whether the command is stopped with `redis-lock` (Ctrl-Z): a stop is then a SIGKILL. */
  readonly suspended: boolean;
  /** Resolves once the command, and every process of its group, is gone. */
  readonly outcome: Promise<ChildOutcome>;
}

/**
 * Runs the command under a watchdog, and supervises it to its end.
 *
 * @param options The command and how to watch it.
 * @returns The supervision; its outcome never rejects.
 *
 * @example
 * ```ts
 * import process from "node:process";
 * import { superviseChild } from "./cli_child.ts";
 * import { trapSignals } from "./cli_signals.ts";
 *
 * const signals = trapSignals();
 * const { outcome } = superviseChild({
 *   command: ["sh", "-c", "exit 3"],
 *   env: { ...process.env } as Record<string, string>,
 *   killAfter: 10_000,
 *   foreground: false,
 *   quiet: false,
 *   signals,
 *   mayStart: () => true,
 *   mayContinue: () => true,
 * });
 * console.log((await outcome).code); // 3
 * signals.dispose();
 * ```
 */
export function superviseChild(options: ChildOptions): Supervision {
  let target: Target | undefined;
  let watchdog: Watchdog | undefined;
  let requestedKillBy: number | undefined; // a stop asked for before the command started
  let stopping = false;
  let killedAt: number | undefined;
  let killBy = Infinity;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  let suspended = false;
  let killedStopped = false;

  const kill = () => {
    clearTimeout(killTimer);
    killBy = -Infinity;
    if (killedAt === undefined) killedAt = performance.now();
    sendSignal(target!, "SIGKILL");
  };
  const stop = (by: number) => {
    if (!target) {
      requestedKillBy = Math.min(requestedKillBy ?? Infinity, by);
      return;
    }
    const now = performance.now();
    if (suspended) {
      // Stopped with redis-lock (Ctrl-Z), whose lease may have run out
      // meanwhile: resuming it to handle SIGTERM could run it without the lock.
      stopping = true;
      kill();
      return;
    }
    if (!stopping) {
      stopping = true;
      if (by > now) sendSignal(target, "SIGTERM");
      watchdog!.stopBy(by - now);
    }
    if (by >= killBy) return;
    killBy = by;
    clearTimeout(killTimer);
    if (by <= now) kill();
    else killTimer = setTimeout(kill, by - now);
  };

  const run = async (): Promise<ChildOutcome> => {
    const [program, ...args] = options.command;
    const missing = findProgram(program, options.env.PATH);
    if (missing) {
      printError(`cannot run ${JSON.stringify(program)}: ${missing.message}`);
      return { code: missing.code, started: false, killedStopped };
    }
    watchdog = startWatchdog(options.killAfter);
    let child: ChildProcess;
    try {
      child = spawn("/bin/sh", ["-c", GATE, "redis-lock", program, ...args], {
        stdio: ["inherit", "inherit", "inherit", "pipe"],
        env: options.env,
        detached: !options.foreground,
      });
    } catch (err) {
      await watchdog.disarm();
      printError(`cannot run ${JSON.stringify(program)}: ${messageOf(err)}`);
      return { code: EXIT_CODES.cannotExecute, started: false, killedStopped };
    }
    const exited = new Promise<number>((resolve) => {
      child.once("exit", (code, signal) => resolve(code ?? signalExitCode(signal ?? "SIGKILL")));
      child.once("error", (err) => {
        if (child.pid !== undefined) return;
        printError(`cannot run ${JSON.stringify(program)}: ${messageOf(err)}`);
        resolve(EXIT_CODES.cannotExecute);
      });
    });
    if (child.pid === undefined) {
      const code = await exited;
      await watchdog.disarm();
      return { code, started: false, killedStopped };
    }
    target = { pid: child.pid, group: !options.foreground };
    watchdog.arm(target);
    const gate = child.stdio[3] as Writable;
    gate.on("error", () => {}); // the gate died: its exit is on its way
    const go = requestedKillBy === undefined && options.mayStart();
    gate.end(go ? "go\n" : "");
    if (!go) {
      await exited;
      await watchdog.disarm();
      return { code: 0, started: false, killedStopped };
    }

    const stopForwarding = options.signals.forward((signal) => {
      if (options.foreground && TERMINAL_SIGNALS.includes(signal)) return; // it has them already
      sendSignal(target!, signal);
    });
    const onStop = () => {
      // Ctrl-Z: the command's group is in another session, where SIGTSTP
      // would be discarded, so it gets SIGSTOP; then redis-lock stops too.
      suspended = true;
      sendSignal(target!, "SIGSTOP");
      process.kill(process.pid, "SIGSTOP");
    };
    const onContinue = () => {
      if (options.foreground) {
        if (!options.mayContinue()) {
          killedStopped = true;
          kill();
        }
        return;
      }
      if (!suspended) return;
      suspended = false;
      if (options.mayContinue()) {
        sendSignal(target!, "SIGCONT");
      } else {
        killedStopped = true;
        kill(); // it never runs again: the lease may be gone
      }
    };
    if (!options.foreground) process.on("SIGTSTP", onStop);
    process.on("SIGCONT", onContinue);
    try {
      const code = await exited;
      if (target.group && isRunning(target)) {
        if (!stopping && !options.quiet) {
          printError(
            "the command exited, but processes it started still run in its process group; " +
              `stopping them (SIGTERM, SIGKILL after ${formatDuration(options.killAfter)})`,
          );
        }
        stop(performance.now() + options.killAfter);
        await gone(target, () => killedAt);
      }
      return { code, started: true, killedStopped };
    } finally {
      clearTimeout(killTimer);
      stopForwarding();
      process.off("SIGTSTP", onStop);
      process.off("SIGCONT", onContinue);
      await watchdog.disarm();
    }
  };

  return {
    stop(by = performance.now() + options.killAfter) {
      stop(by);
    },
    get suspended() {
      return suspended;
    },
    outcome: run(),
  };
}

/** Waits until no process of the group runs; gives up a while after SIGKILL. */
async function gone(target: Target, killedAt: () => number | undefined): Promise<void> {
  while (isRunning(target)) {
    const since = killedAt();
    if (since !== undefined && performance.now() - since > AFTER_KILL_MS) {
      printError(
        `processes of the command's group are still there ${formatDuration(AFTER_KILL_MS)} ` +
          "after SIGKILL (stuck in the kernel?); releasing the lock anyway",
      );
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Looks the program up as execvp(3) would (in `PATH` unless it holds a
 * slash), so that a missing or unusable program is reported in redis-lock's
 * words before anything is started.
 */
function findProgram(
  program: string,
  path: string | undefined,
): { code: number; message: string } | undefined {
  // An execute bit is enough here (access(2) would need Deno's --allow-sys):
  // the gate's own exec reports what this cannot see, as 126 or 127.
  const check = (file: string): "ok" | "missing" | "denied" => {
    try {
      const stat = statSync(file);
      return !stat.isDirectory() && (stat.mode & 0o111) !== 0 ? "ok" : "denied";
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "ENOENT" || code === "ENOTDIR") return "missing";
      return code === "EACCES" ? "denied" : "ok";
    }
  };
  const notFound = { code: EXIT_CODES.notFound, message: "not found" };
  const denied = { code: EXIT_CODES.cannotExecute, message: "permission denied" };
  if (program === "") return notFound;
  if (program.includes("/")) {
    const found = check(program);
    return found === "ok" ? undefined : found === "missing" ? notFound : denied;
  }
  let sawDenied = false;
  for (const dir of (path ?? "/usr/local/bin:/usr/bin:/bin").split(":")) {
    const found = check(join(dir || ".", program));
    if (found === "ok") return undefined;
    if (found === "denied") sawDenied = true;
  }
  return sawDenied ? denied : notFound;
}
