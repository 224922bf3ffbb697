/**
 * What `superviseChild()` (in `cli_child.ts`) takes and gives: how to run
 * the command, how it ended, and the handle to stop it.
 *
 * @module
 */

import type { SignalTrap } from "./cli_signals.ts";

/**
 * How to run the command; see `superviseChild()`.
 *
 * @example
 * ```ts
 * import type { ChildOptions } from "./cli_supervision.ts";
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
 * import type { ChildOutcome } from "./cli_supervision.ts";
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
 * A running command; see `superviseChild()`.
 *
 * @example
 * ```ts
 * import type { Supervision } from "./cli_supervision.ts";
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
