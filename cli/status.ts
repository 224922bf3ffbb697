/**
 * `redis-lock status`: whether a lock is held, the lease left to its holder,
 * how many processes wait for it, and its last fencing token; and, when a
 * semaphore of the same name has holders or waiters, those too; as text or
 * as one JSON object.
 *
 * @module
 */

import process from "node:process";
import { type FlagSpec, parseArgs, UsageError } from "./args.ts";
import { formatDuration } from "./duration.ts";
import { STATUS_HELP } from "./help.ts";
import { closeRedis, connectRedis, redisUrl } from "./redis.ts";
import { type LockStatus, readStatus } from "./scripts.ts";
import { formatSemaphoreStatus, readSemaphoreStatus } from "./semaphore_status.ts";

const FLAGS: readonly FlagSpec[] = [
  { name: "url", kind: "string" },
  { name: "json", kind: "boolean" },
];

/**
 * Shows a lock's state as `redis-lock status` prints it without `--json`.
 *
 * @param status The state from `readStatus()`.
 * @returns Four lines, each ending with a newline.
 *
 * @example
 * ```ts
 * import { formatStatus } from "./status.ts";
 *
 * console.log(formatStatus({
 *   name: "job",
 *   key: "lock:{job}",
 *   held: true,
 *   type: "string",
 *   remaining: 12_300,
 *   waiters: 2,
 *   fencingToken: 7,
 * }));
 * ```
 */
export function formatStatus(status: LockStatus): string {
  const state = !status.held
    ? "free"
    : status.type !== "string"
    ? `not a lock: the key holds a ${status.type} (run fails on it; ` +
      "delete it with release --force)"
    : status.remaining === null
    ? "held, with no expiry (not set by redis-lock?)"
    : `held, ${formatDuration(status.remaining)} left on the lease (${status.remaining} ms)`;
  return [
    `lock:           ${JSON.stringify(status.name)} (key ${status.key})`,
    `state:          ${state}`,
    `waiting:        ${status.waiters} waiter${status.waiters === 1 ? "" : "s"}`,
    `fencing token:  ${status.fencingToken === null ? "none" : `${status.fencingToken} (last)`}`,
    "",
  ].join("\n");
}

/**
 * `redis-lock status`: prints the state of one lock.
 *
 * @param args The arguments after `status`.
 * @param env The environment (for `REDIS_URL`).
 * @returns 0 (also when the lock is free).
 * @throws {UsageError} For bad arguments.
 * @throws {Error} When Redis cannot be reached or fails.
 *
 * @example
 * ```ts
 * import process from "node:process";
 * import { statusCli } from "./status.ts";
 *
 * process.exitCode = await statusCli(["--json", "deploy"], process.env);
 * ```
 */
export async function statusCli(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const { flags, positionals, rest } = parseArgs("status", args, FLAGS, 1);
  if (flags.help) {
    process.stdout.write(STATUS_HELP);
    return 0;
  }
  const names = [...positionals, ...rest];
  if (names.length === 0 || names[0] === "") {
    throw new UsageError("status", "missing the lock name");
  }
  if (names.length > 1) {
    throw new UsageError("status", `unexpected argument ${JSON.stringify(names[1])}`);
  }
  const url = redisUrl("status", flags.url as string | undefined, env);
  const client = await connectRedis(url);
  try {
    const status = await readStatus(client, names[0]);
    // A semaphore of the same name, shown only when it has holders or waiters.
    const sem = await readSemaphoreStatus(client, names[0]);
    const used = sem.holders > 0 || sem.waiters > 0;
    const text = formatStatus(status) + (used ? formatSemaphoreStatus(sem) : "");
    const json = used ? { ...status, semaphore: sem } : status;
    process.stdout.write(flags.json ? `${JSON.stringify(json)}\n` : text);
    return 0;
  } finally {
    await closeRedis(client);
  }
}
