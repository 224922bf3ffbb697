/**
 * `redis-lock release --force`: an operator's way out of a stuck lock.
 * Without `--force` it refuses. With it, it first asks the holder, if that
 * is a `redis-lock run`, to stop its command and let go (see
 * `cli_revoke.ts`), so that no waiter starts beside the old command; a
 * holder that does not answer (another program, or one cut off from Redis)
 * has its key deleted at once, which wakes the waiters.
 *
 * @module
 */

import process from "node:process";
import { type FlagSpec, parseArgs, UsageError } from "./cli_args.ts";
import { formatDuration } from "./cli_duration.ts";
import { RELEASE_HELP } from "./cli_help.ts";
import { type CliClient, closeRedis, connectRedis, redisUrl } from "./cli_redis.ts";
import { RELEASE_SLACK_MS, requestRevoke } from "./cli_revoke.ts";
import { forceRelease, readHolder } from "./cli_scripts.ts";

/** How often `release --force` looks whether the holder has let go. */
const POLL_MS = 25;

const FLAGS: readonly FlagSpec[] = [
  { name: "url", kind: "string" },
  { name: "force", kind: "boolean" },
];

/**
 * `redis-lock release`: with `--force`, takes the lock from its holder (see
 * the module doc) and says what it did on stdout.
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
    process.stdout.write(`lock ${JSON.stringify(name)} ${await takeAway(client, name)}\n`);
    return 0;
  } finally {
    await closeRedis(client);
  }
}

/** Takes the lock `name` from its holder; says how, for the line on stdout. */
async function takeAway(client: CliClient, name: string): Promise<string> {
  const holder = await readHolder(client, name);
  if (!holder) return "was not held; nothing to do";
  const had = `its holder had ${
    holder.remaining === Infinity ? "no expiry" : formatDuration(holder.remaining)
  } left`;
  const answer = await requestRevoke(client, name);
  if (answer.stoppingWithin !== undefined) {
    const bound = answer.stoppingWithin + RELEASE_SLACK_MS;
    const deadline = performance.now() + bound;
    while (performance.now() < deadline) {
      const now = await readHolder(client, name);
      if (now?.value !== holder.value || now.type !== holder.type) {
        const next = now ? "; it passed to the next waiter" : "";
        return `released: its holder (a redis-lock run) stopped its command and let go${next}`;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const left = await forceRelease(client, name, holder.value);
    if (typeof left !== "number") return "released: its holder let go just in time";
    return `released (its holder, a redis-lock run, did not stop its command within ` +
      `${formatDuration(bound)}; the key was deleted anyway)`;
  }
  const left = await forceRelease(client, name, holder.value);
  if (left === "free") return "was not held; nothing to do";
  if (left === "moved") return "released: its holder let go meanwhile";
  return `released (${had})`;
}
