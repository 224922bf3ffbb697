/**
 * The settings of `redis-lock run`, read from its command line.
 *
 * @module
 */

import { type FlagSpec, parseArgs, UsageError } from "./args.ts";
import { formatDuration } from "./duration.ts";
import { EXIT_CODES } from "./exit.ts";
import { defaultKillAfter, maxKillAfter, MIN_TTL_MS, safetyMargin } from "./bounds.ts";
import { redisUrl } from "./redis.ts";

const MAX_MS = 2_147_483_647; // the longest timer and lease: 2^31 - 1 ms

const FLAGS: readonly FlagSpec[] = [
  { name: "url", kind: "string" },
  { name: "ttl", kind: "duration" },
  { name: "wait", short: "w", kind: "duration" },
  { name: "conflict-exit-code", short: "E", kind: "exitCode" },
  { name: "kill-after", kind: "duration" },
  { name: "fencing", kind: "boolean" },
  { name: "foreground", kind: "boolean" },
  { name: "spin", kind: "boolean" },
  { name: "no-fair", kind: "boolean" },
  { name: "limit", short: "n", kind: "string" },
  { name: "quiet", short: "q", kind: "boolean" },
];

/**
 * The settings of one `redis-lock run`; durations in ms.
 *
 * @example
 * ```ts
 * import type { RunOptions } from "./run_options.ts";
 *
 * const options: RunOptions = {
 *   url: "redis://127.0.0.1:6379",
 *   name: "nightly-report",
 *   command: ["/usr/local/bin/report.sh"],
 *   ttl: 30_000,
 *   wait: 0,
 *   conflictExitCode: 75,
 *   killAfter: 10_000,
 *   fencing: false,
 *   foreground: false,
 *   spin: false,
 *   fair: true,
 *   limit: undefined,
 *   quiet: false,
 * };
 * ```
 */
export interface RunOptions {
  /** The Redis server. */
  readonly url: string;
  /** The lock's name. */
  readonly name: string;
  /** The program and its arguments. */
  readonly command: readonly string[];
  /** The lease length (`--ttl`). */
  readonly ttl: number;
  /** How long to wait (`--wait`); `Infinity` waits forever, 0 tries once. */
  readonly wait: number;
  /** The exit code when the lock was not acquired in time (`-E`). */
  readonly conflictExitCode: number;
  /** The grace period between SIGTERM and SIGKILL whenever the command is stopped. */
  readonly killAfter: number;
  /** Pass a fencing token to the command (`--fencing`). */
  readonly fencing: boolean;
  /**
   * Leave the command in `redis-lock`'s process group, the terminal's
   * foreground group (`--foreground`); only its own process is then signalled.
   */
  readonly foreground: boolean;
  /** Wait by polling with `RedisSpinLock` (`--spin`). */
  readonly spin: boolean;
  /** Wait in fair mode, first come, first served (the default; off with `--no-fair`). */
  readonly fair: boolean;
  /**
   * Hold one of this many permits of the semaphore <name> (`--limit`,
   * `RedisSemaphore`) instead of the lock; `undefined`: the lock.
   */
  readonly limit: number | undefined;
  /** No status line and no busy message (`--quiet`). */
  readonly quiet: boolean;
}

/** `--limit`: a whole number from 1 to 2^31-1; not with `--spin` or `--fencing`. */
function readLimit(flags: Record<string, unknown>): number | undefined {
  const text = flags.limit as string | undefined;
  if (text === undefined) return undefined;
  const limit = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(limit >= 1 && limit <= MAX_MS)) {
    throw new UsageError(
      "run",
      `--limit: must be a whole number from 1 to ${MAX_MS}, got ${JSON.stringify(text)}`,
    );
  }
  for (const flag of ["spin", "fencing"]) {
    if (flags[flag] === true) {
      throw new UsageError(
        "run",
        `--limit cannot be combined with --${flag} (a semaphore has neither)`,
      );
    }
  }
  return limit;
}

/**
 * Reads the arguments of `redis-lock run`.
 *
 * @param args The arguments after `run`.
 * @param env The environment (for `REDIS_URL`).
 * @returns The settings, or `undefined` when `--help` was asked for.
 * @throws {UsageError} For an unknown flag, a bad value, a missing name or
 *   command, or a `--kill-after` that does not fit in `--ttl`.
 *
 * @example
 * ```ts
 * import { parseRunArgs } from "./run_options.ts";
 *
 * const options = parseRunArgs(["--wait", "0", "report", "--", "./report.sh"], {});
 * console.log(options?.wait, options?.command); // 0 ["./report.sh"]
 * ```
 */
export function parseRunArgs(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): RunOptions | undefined {
  const { flags, positionals, rest } = parseArgs("run", args, FLAGS, 1);
  if (flags.help) return undefined;
  const name = positionals[0];
  if (name === undefined || name === "") throw new UsageError("run", "missing the lock name");
  if (rest.length === 0 || rest[0] === "") {
    throw new UsageError("run", "missing the command to run (redis-lock run <name> -- <command>)");
  }
  const ms = (flag: string, fallback: number, min: number) => {
    const value = (flags[flag] as number | undefined) ?? fallback;
    if (value !== Infinity && (value < min || value > MAX_MS)) {
      throw new UsageError(
        "run",
        `--${flag}: must be from ${formatDuration(min)} to ${formatDuration(MAX_MS)}`,
      );
    }
    return value;
  };
  const ttl = ms("ttl", 30_000, MIN_TTL_MS);
  const killAfter = ms("kill-after", defaultKillAfter(ttl), 0);
  if (killAfter > maxKillAfter(ttl)) {
    throw new UsageError(
      "run",
      `--kill-after ${formatDuration(killAfter)} does not fit in --ttl ${formatDuration(ttl)}: ` +
        "the command must be dead before its lease can end, so --kill-after may be at most " +
        `${formatDuration(maxKillAfter(ttl))} (the ttl less a ${
          formatDuration(safetyMargin(ttl))
        } ` +
        "margin and 150ms for renewals); lower --kill-after or raise --ttl",
    );
  }
  return {
    url: redisUrl("run", flags.url as string | undefined, env),
    name,
    command: rest,
    ttl,
    wait: ms("wait", Infinity, 0),
    conflictExitCode: (flags["conflict-exit-code"] as number | undefined) ??
      EXIT_CODES.conflict,
    killAfter,
    fencing: flags.fencing === true,
    foreground: flags.foreground === true,
    spin: flags.spin === true,
    fair: flags["no-fair"] !== true,
    limit: readLimit(flags),
    quiet: flags.quiet === true,
  };
}
