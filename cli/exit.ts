/**
 * How `redis-lock` ends: its documented exit codes, the shell's codes for a
 * process ended by a signal, and its one-line messages on stderr.
 *
 * @module
 */

import { constants } from "node:os";
import process from "node:process";

/**
 * The exit codes of `redis-lock` itself. `run` otherwise exits with its
 * command's code (128 + the signal number when a signal ended the command).
 *
 * @example
 * ```ts
 * import { EXIT_CODES } from "./exit.ts";
 *
 * if (EXIT_CODES.conflict === 75) console.log("busy: try again later");
 * ```
 */
export const EXIT_CODES: {
  /** A mistake on the command line (unknown flag, bad duration, no `--force`). */
  readonly usage: 2;
  /** Redis could not be reached, or replied with an error (EX_UNAVAILABLE). */
  readonly unavailable: 69;
  /** `run`: the lock was not acquired within `--wait` (EX_TEMPFAIL; `-E` changes it). */
  readonly conflict: 75;
  /** `run`: the lock was lost while the command ran; the command was stopped. */
  readonly lost: 76;
  /** `run`: the command was found but could not be executed. */
  readonly cannotExecute: 126;
  /** `run`: the command was not found. */
  readonly notFound: 127;
} = {
  usage: 2,
  unavailable: 69,
  conflict: 75,
  lost: 76,
  cannotExecute: 126,
  notFound: 127,
};

/**
 * The exit code a shell reports for a process ended by `signal`: 128 plus the
 * signal's number (130 for SIGINT, 143 for SIGTERM).
 *
 * @param signal A signal name such as `"SIGTERM"`.
 * @returns 128 + the signal number (128 + 15 for an unknown name).
 *
 * @example
 * ```ts
 * import { signalExitCode } from "./exit.ts";
 *
 * console.log(signalExitCode("SIGINT"), signalExitCode("SIGTERM")); // 130 143
 * ```
 */
export function signalExitCode(signal: string): number {
  const numbers = constants.signals as Readonly<Record<string, number | undefined>>;
  return 128 + (numbers[signal] ?? 15);
}

/**
 * Prints one line on stderr, prefixed with `redis-lock: `.
 *
 * @param message The line, without a newline.
 *
 * @example
 * ```ts
 * import { printError } from "./exit.ts";
 *
 * printError('lock "job" is held by another holder; not waiting (--wait 0)');
 * ```
 */
export function printError(message: string): void {
  process.stderr.write(`redis-lock: ${message}\n`);
}

/**
 * The message of an error, for one line on stderr.
 *
 * @param err Anything thrown.
 * @returns Its message, or its text when it has none.
 *
 * @example
 * ```ts
 * import { messageOf } from "./exit.ts";
 *
 * console.log(messageOf(new Error("connect ECONNREFUSED"))); // connect ECONNREFUSED
 * ```
 */
export function messageOf(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === "string" && message !== "" ? message : String(err);
}
