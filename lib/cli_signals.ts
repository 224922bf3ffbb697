/**
 * The signals `redis-lock run` catches instead of dying by them: SIGHUP,
 * SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 and SIGALRM (each would end it,
 * and SIGUSR1 would open a debugger), plus SIGWINCH. While it waits for the
 * lock (or connects), the first of them except SIGWINCH cancels the wait;
 * while the command runs, each is passed on to it, once.
 *
 * @module
 */

import process from "node:process";

/** The signals `redis-lock run` catches and passes on to its command. */
export const TRAPPED_SIGNALS: readonly string[] = [
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGTERM",
  "SIGUSR1",
  "SIGUSR2",
  "SIGALRM",
  "SIGWINCH",
];

/**
 * The signals a terminal sends to its whole foreground process group (Ctrl-C,
 * Ctrl-\, a hang-up, a resize). With `--foreground` the command is in that
 * group and has them already, so they are not passed on again.
 */
export const TERMINAL_SIGNALS: readonly string[] = ["SIGHUP", "SIGINT", "SIGQUIT", "SIGWINCH"];

/** Signals that do not end a program by default: caught only to pass them on. */
const PASSIVE = new Set(["SIGWINCH"]);

/**
 * Signals caught for the lifetime of one `run`; see {@linkcode trapSignals}.
 *
 * @example
 * ```ts
 * import { type SignalTrap, trapSignals } from "./cli_signals.ts";
 *
 * const trap: SignalTrap = trapSignals();
 * trap.dispose();
 * ```
 */
export interface SignalTrap {
  /** Aborts at the first caught signal that would end a program (to cancel a wait). */
  readonly signal: AbortSignal;
  /** The name of that first signal, if any. */
  readonly received: string | undefined;
  /**
   * Calls `listener` with the name of every signal caught from now on.
   * @returns A function that stops the calls.
   */
  forward(listener: (signal: string) => void): () => void;
  /** Stops catching: the signals get their default behaviour again. */
  dispose(): void;
}

/**
 * Starts catching `signals`: instead of ending the process, each one is
 * recorded, aborts {@linkcode SignalTrap.signal} (the first time), and goes to
 * the forward listeners.
 *
 * @param signals The signal names to catch.
 * @returns The trap; call `dispose()` when done.
 *
 * @example Cancel a wait on Ctrl-C
 * ```ts
 * import { trapSignals } from "./cli_signals.ts";
 *
 * const trap = trapSignals();
 * try {
 *   await new Promise((resolve, reject) => {
 *     const timer = setTimeout(resolve, 1_000);
 *     trap.signal.addEventListener("abort", () => {
 *       clearTimeout(timer);
 *       reject(trap.signal.reason);
 *     });
 *   });
 * } finally {
 *   trap.dispose();
 * }
 * ```
 */
export function trapSignals(signals: readonly string[] = TRAPPED_SIGNALS): SignalTrap {
  const controller = new AbortController();
  const listeners = new Set<(signal: string) => void>();
  let received: string | undefined;
  const handlers = new Map<string, () => void>();
  for (const name of signals) {
    const handler = () => {
      if (received === undefined && !PASSIVE.has(name)) {
        received = name;
        controller.abort(new Error(`received ${name}`));
      }
      for (const listener of [...listeners]) listener(name);
    };
    try {
      process.on(name as "SIGINT", handler);
      handlers.set(name, handler);
    } catch {
      // A signal this platform cannot catch (SIGHUP on Windows) is left alone.
    }
  }
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    forward(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose() {
      for (const [name, handler] of handlers) process.off(name as "SIGINT", handler);
      handlers.clear();
      listeners.clear();
    },
  };
}
