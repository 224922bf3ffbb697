/**
 * Durations on the `redis-lock` command line: `500ms`, `30s`, `5m`, `1h`, or
 * a plain number of milliseconds; and the short form messages show them in.
 *
 * @module
 */

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * Reads a command-line duration as whole milliseconds: a plain number is ms,
 * else a number followed by `ms`, `s`, `m` or `h` (`1.5s` is 1500). Returns
 * `undefined` for anything else, including a fraction of a millisecond.
 *
 * @param text The duration as written, for example `"30s"`.
 * @returns The duration in ms, or `undefined` when `text` is not one.
 *
 * @example Reading `--wait` values
 * ```ts
 * import { parseDuration } from "./duration.ts";
 *
 * console.log(parseDuration("500ms"), parseDuration("30s"), parseDuration("5m")); // 500 30000 300000
 * console.log(parseDuration("250"), parseDuration("5x")); // 250 undefined
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNITS[match[2] ?? "ms"];
  const whole = Math.round(ms);
  return Math.abs(ms - whole) < 1e-6 && Number.isSafeInteger(whole) ? whole : undefined;
}

/**
 * Shows a duration in ms the way people read it: `850ms`, `12.3s`, `4m05s`,
 * `2h03m`; `forever` for `Infinity`.
 *
 * @param ms A duration in milliseconds (0 or more, or `Infinity`).
 * @returns The short text.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./duration.ts";
 *
 * console.log(formatDuration(850), formatDuration(12_345), formatDuration(245_000)); // 850ms 12.3s 4m05s
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms === Infinity) return "forever";
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const two = (n: number) => `${n}`.padStart(2, "0");
  const s = Math.floor(ms / 1_000);
  if (s < 3_600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  return `${Math.floor(s / 3_600)}h${two(Math.floor(s / 60) % 60)}m`;
}
