/**
 * `redis-lock status --watch`: shows a view again every second, redrawn in
 * place on a terminal (each view below the last otherwise), until Ctrl-C
 * (SIGINT) or SIGTERM.
 *
 * @module
 */

import process from "node:process";

/** Clears the screen and moves the cursor home (ANSI). */
const CLEAR = "\x1b[H\x1b[2J";

/**
 * Shows `view()` every `intervalMs` until SIGINT or SIGTERM, then resolves.
 *
 * @param view Reads and formats what to show (its rejection ends the watch).
 * @param intervalMs The time between two reads, in ms. @default {1_000}
 * @returns When interrupted.
 *
 * @example
 * ```ts
 * import { watch } from "./watch.ts";
 *
 * await watch(() => Promise.resolve(`${new Date().toISOString()}\n`));
 * ```
 */
export async function watch(view: () => Promise<string>, intervalMs = 1_000): Promise<void> {
  const tty = process.stdout.isTTY === true;
  let wake = () => {};
  let stopped = false;
  const stop = () => {
    stopped = true;
    wake();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    while (!stopped) {
      const text = await view();
      if (stopped) break;
      process.stdout.write(tty ? CLEAR + text : `${text}\n`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}
