/**
 * The command that `redis-lock run` guards: started with the terminal's
 * stdin, stdout and stderr, sent every signal `redis-lock` catches, and
 * stopped (SIGTERM, then SIGKILL after a grace period) when the lock is lost.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { EXIT_CODES, messageOf, printError, signalExitCode } from "./cli_exit.ts";
import { formatDuration } from "./cli_duration.ts";
import type { SignalTrap } from "./cli_signals.ts";

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
 *   lost: new AbortController().signal,
 *   killAfter: 10_000,
 *   signals: trapSignals(),
 * };
 * ```
 */
export interface ChildOptions {
  /** The program and its arguments. */
  readonly command: readonly string[];
  /** Variables to add to the environment of the command. */
  readonly env?: Readonly<Record<string, string>>;
  /** The lock's lost-lock signal: when it aborts, the command is stopped. */
  readonly lost: AbortSignal;
  /** How long to wait after SIGTERM before SIGKILL, in ms. */
  readonly killAfter: number;
  /** Caught signals, all forwarded to the command. */
  readonly signals: SignalTrap;
}

/**
 * How the command ended.
 *
 * @example
 * ```ts
 * import type { ChildOutcome } from "./cli_child.ts";
 *
 * const outcome: ChildOutcome = { code: 0, lost: false };
 * ```
 */
export interface ChildOutcome {
  /**
   * The command's exit code; 128 + the signal number when a signal ended it;
   * 127 when it was not found and 126 when it could not be executed.
   */
  readonly code: number;
  /** Whether it was stopped because the lock was lost. */
  readonly lost: boolean;
}

/**
 * Runs the command to its end. Caught signals go to it as they arrive; when
 * `lost` aborts, it gets SIGTERM, and SIGKILL `killAfter` ms later if it is
 * still running.
 *
 * @param options The command and how to watch it.
 * @returns How it ended; never rejects.
 *
 * @example
 * ```ts
 * import { superviseChild } from "./cli_child.ts";
 * import { trapSignals } from "./cli_signals.ts";
 *
 * const signals = trapSignals();
 * const lost = new AbortController();
 * const outcome = await superviseChild({
 *   command: ["sh", "-c", "exit 3"],
 *   lost: lost.signal,
 *   killAfter: 10_000,
 *   signals,
 * });
 * signals.dispose();
 * console.log(outcome.code); // 3
 * ```
 */
export function superviseChild(options: ChildOptions): Promise<ChildOutcome> {
  const [program, ...args] = options.command;
  const env = options.env ? { ...process.env, ...options.env } : undefined;
  return new Promise((resolve) => {
    let child: ChildProcess;
    let lost = false;
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    let stopForwarding = () => {};
    let settled = false;
    const onLost = () => {
      lost = true;
      const reason = messageOf(options.lost.reason);
      const grace = formatDuration(options.killAfter);
      printError(`${reason}; stopping the command (SIGTERM, SIGKILL after ${grace})`);
      kill(child, "SIGTERM");
      killTimer = setTimeout(() => kill(child, "SIGKILL"), options.killAfter);
    };
    const finish = (code: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      stopForwarding();
      options.lost.removeEventListener("abort", onLost);
      resolve({ code, lost });
    };
    try {
      child = spawn(program, args, { stdio: "inherit", env });
    } catch (err) {
      finish(spawnFailure(program, err));
      return;
    }
    child.once("error", (err) => {
      if (child.pid === undefined) finish(spawnFailure(program, err));
    });
    child.once("exit", (code, signal) => finish(code ?? signalExitCode(signal ?? "SIGKILL")));
    stopForwarding = options.signals.forward((signal) => kill(child, signal));
    if (options.lost.aborted) onLost();
    else options.lost.addEventListener("abort", onLost, { once: true });
  });
}

function kill(child: ChildProcess, signal: string): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // Not child.kill(): Deno's then reports the signal sent as the cause of
    // the exit, even when the command caught it and exited with its own code.
    process.kill(child.pid, signal);
  } catch {
    // Already gone: its exit event is on its way.
  }
}

function spawnFailure(program: string, err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  const notFound = code === "ENOENT";
  printError(`cannot run ${JSON.stringify(program)}: ${notFound ? "not found" : messageOf(err)}`);
  return notFound ? EXIT_CODES.notFound : EXIT_CODES.cannotExecute;
}
