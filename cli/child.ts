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

import process from "node:process";
import { EXIT_CODES, messageOf, printError, signalExitCode } from "./exit.ts";
import { formatDuration } from "./duration.ts";
import { isRunning, sendSignal, type Target } from "./group.ts";
import { TERMINAL_SIGNALS } from "./signals.ts";
import { findProgram, type Gated, gone, spawnGated } from "./spawn.ts";
import type { ChildOptions, ChildOutcome, Supervision } from "./supervision.ts";
import { startWatchdog, type Watchdog } from "./watchdog.ts";

export type { ChildOptions, ChildOutcome, Supervision } from "./supervision.ts";

/**
 * Runs the command under a watchdog, and supervises it to its end.
 *
 * @param options The command and how to watch it.
 * @returns The supervision; its outcome never rejects.
 *
 * @example
 * ```ts
 * import process from "node:process";
 * import { superviseChild } from "./child.ts";
 * import { trapSignals } from "./signals.ts";
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
    let gated: Gated;
    try {
      gated = spawnGated([program, ...args], options.env, !options.foreground);
    } catch (err) {
      await watchdog.disarm();
      printError(`cannot run ${JSON.stringify(program)}: ${messageOf(err)}`);
      return { code: EXIT_CODES.cannotExecute, started: false, killedStopped };
    }
    const child = gated.child;
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
    // Caught before the gate opens: a signal that comes as soon as the
    // command runs (a loaded machine may not schedule redis-lock again first)
    // must find the handlers in place.
    const stopForwarding = options.signals.forward((signal) => {
      if (options.foreground && TERMINAL_SIGNALS.includes(signal)) return; // it has them already
      sendSignal(target!, signal);
    });
    if (!options.foreground) process.on("SIGTSTP", onStop);
    process.on("SIGCONT", onContinue);
    const go = requestedKillBy === undefined && options.mayStart();
    gated.open(go);
    if (!go) {
      stopForwarding();
      process.off("SIGTSTP", onStop);
      process.off("SIGCONT", onContinue);
      await exited;
      await watchdog.disarm();
      return { code: 0, started: false, killedStopped };
    }

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
