/**
 * The live status line `redis-lock run` keeps on a terminal while it waits:
 * how long it has waited, and how much longer the holder's lease runs (the
 * key's PTTL, read about once a second). Drawn on one line, cleared when the
 * wait ends.
 *
 * @module
 */

import process from "node:process";
import { formatDuration } from "./cli_duration.ts";
import type { CommandClient } from "./cli_keys.ts";
import { type LockStatus, readStatus } from "./cli_scripts.ts";

const DRAW_EVERY_MS = 200;
const READ_EVERY_MS = 1_000;
const CLEAR_LINE = "\r\x1b[2K";

/**
 * Where the status line is drawn: a terminal stream such as `process.stderr`.
 *
 * @example
 * ```ts
 * import process from "node:process";
 * import type { ProgressStream } from "./cli_progress.ts";
 *
 * const stream: ProgressStream = process.stderr;
 * ```
 */
export interface ProgressStream {
  /** Writes text without a newline. */
  write(text: string): unknown;
  /** The terminal's width, when known. */
  readonly columns?: number;
}

/**
 * A running status line.
 *
 * @example
 * ```ts
 * import type { Progress } from "./cli_progress.ts";
 *
 * declare const progress: Progress;
 * progress.stop();
 * ```
 */
export interface Progress {
  /** Stops updating and clears the line. */
  stop(): void;
}

/**
 * Starts drawing the status line of a wait for the lock `name`.
 *
 * @param client The client to read the lock's state with.
 * @param name The lock's name.
 * @param stream Where to draw; a terminal. @default {process.stderr}
 * @returns The status line; `stop()` it when the wait ends.
 *
 * @example
 * ```ts
 * import { startProgress } from "./cli_progress.ts";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient().connect();
 * const progress = startProgress(client, "job");
 * await new Promise((resolve) => setTimeout(resolve, 1_000));
 * progress.stop();
 * await client.close();
 * ```
 */
export function startProgress(
  client: CommandClient,
  name: string,
  stream: ProgressStream = process.stderr,
): Progress {
  const now = () => performance.now();
  const started = now();
  let holder: { status: LockStatus; at: number } | undefined;
  let reading = false;
  let readAt = -Infinity;
  let drawn = false;
  const read = async () => {
    reading = true;
    readAt = now();
    try {
      holder = { status: await readStatus(client, name), at: now() };
    } catch {
      holder = undefined; // Redis trouble shows up in the wait itself
    } finally {
      reading = false;
    }
  };
  const draw = () => {
    if (!reading && now() - readAt >= READ_EVERY_MS) void read();
    const waited = formatDuration(now() - started);
    const about = holder ? describe(holder.status, now() - holder.at) : "";
    const line = `redis-lock: waiting for ${JSON.stringify(name)} for ${waited}${about}`;
    const width = (stream.columns ?? 0) > 20 ? stream.columns! - 1 : 79; // no wrapping
    stream.write(CLEAR_LINE + line.slice(0, width));
    drawn = true;
  };
  void read();
  const timer = setInterval(draw, DRAW_EVERY_MS);
  return {
    stop() {
      clearInterval(timer);
      if (drawn) stream.write(CLEAR_LINE);
    },
  };
}

/** The holder's part of the line; `since` is the time since the status was read. */
function describe(status: LockStatus, since: number): string {
  if (!status.held) return "; it is free, taking it";
  if (status.type !== "string") return `; the key is a ${status.type}, not a lock`;
  if (status.remaining === null) return "; held, with no expiry";
  const left = formatDuration(Math.max(0, status.remaining - since));
  return `; held, ${left} left on the holder's lease`;
}
