/**
 * `redis-lock release --force`: an operator's way out of a stuck lock. It
 * deletes the lock whoever holds it and wakes the waiters, in one script;
 * without `--force` it refuses.
 *
 * @module
 */

import process from "node:process";
import { resolveDriver } from "./clients/lock_client.ts";
import { type FlagSpec, parseArgs, UsageError } from "./cli_args.ts";
import { formatDuration } from "./cli_duration.ts";
import { RELEASE_HELP } from "./cli_help.ts";
import { closeRedis, connectRedis, redisUrl } from "./cli_redis.ts";
import { forceRelease } from "./cli_scripts.ts";

const FLAGS: readonly FlagSpec[] = [
  { name: "url", kind: "string" },
  { name: "force", kind: "boolean" },
];

/**
 * `redis-lock release`: with `--force`, deletes the lock and wakes its
 * waiters, and says what it did on stdout.
 *
 * @param args The arguments after `release`.
 * @param env The environment (for `REDIS_URL`).
 * @returns 0, also when the lock was already free.
 * @throws {UsageError} Without `--force`, and for other bad arguments.
 * @throws {Error} When Redis cannot be reached or fails.
 *
 * @example
 * ```ts
 * import process from "node:process";
 * import { releaseCli } from "./cli_release.ts";
 *
 * process.exitCode = await releaseCli(["--force", "deploy"], process.env);
 * ```
 */
export async function releaseCli(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const { flags, positionals, rest } = parseArgs("release", args, FLAGS, 1);
  if (flags.help) {
    process.stdout.write(RELEASE_HELP);
    return 0;
  }
  const names = [...positionals, ...rest];
  if (names.length === 0 || names[0] === "") {
    throw new UsageError("release", "missing the lock name");
  }
  if (names.length > 1) {
    throw new UsageError("release", `unexpected argument ${JSON.stringify(names[1])}`);
  }
  if (!flags.force) {
    throw new UsageError(
      "release",
      "refusing to delete a lock someone may hold; add --force to do it anyway",
    );
  }
  const name = names[0];
  const client = await connectRedis(redisUrl("release", flags.url as string | undefined, env));
  try {
    const left = await forceRelease(resolveDriver(client), name);
    const what = left === undefined
      ? "was not held; nothing to do"
      : `released (its holder had ${left === Infinity ? "no expiry" : formatDuration(left)} left)`;
    process.stdout.write(`lock ${JSON.stringify(name)} ${what}\n`);
    return 0;
  } finally {
    await closeRedis(client);
  }
}
