/**
 * `redis-lock status`: per name, whether the lock is held, who holds it
 * (identity, age, lease left), who waits in its queue (identity, wait), and
 * its last fencing token; and, when a semaphore of the same name has holders
 * or waiters, those too; as text or as one JSON object per name, once or
 * redrawn every second (`--watch`).
 *
 * @module
 */

import process from "node:process";
import { RedisLock, RedisSemaphore } from "@x/redis-lock";
import { type FlagSpec, parseArgs, UsageError } from "./args.ts";
import { formatDuration } from "./duration.ts";
import { STATUS_HELP } from "./help.ts";
import { formatHolders } from "./holders.ts";
import { type CliClient, closeRedis, connectRedis, redisUrl } from "./redis.ts";
import { watch } from "./watch.ts";
import { type LockStatus, readStatus } from "./scripts.ts";
import { formatSemaphoreStatus, readSemaphoreStatus } from "./semaphore_status.ts";

const FLAGS: readonly FlagSpec[] = [
  { name: "url", kind: "string" },
  { name: "json", kind: "boolean" },
  { name: "watch", kind: "boolean" },
  { name: "prefix", kind: "string" },
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
 * Reads and shows every name once: text, or one JSON line per name.
 *
 * @param client The command's Redis client.
 * @param names The lock names.
 * @param json One JSON object per line instead of text.
 * @param prefix The library's `prefix` option, if any.
 * @returns What to print.
 *
 * @example
 * ```ts
 * import { connectRedis } from "./redis.ts";
 * import { showStatus } from "./status.ts";
 *
 * const client = await connectRedis("redis://127.0.0.1:6379");
 * console.log(await showStatus(client, ["deploy"], false, undefined));
 * await client.close();
 * ```
 */
export async function showStatus(
  client: CliClient,
  names: readonly string[],
  json: boolean,
  prefix: string | undefined,
): Promise<string> {
  const out: string[] = [];
  for (const name of names) {
    const options = prefix === undefined ? {} : { prefix };
    const status = await readStatus(client, name, prefix);
    const who = await RedisLock.inspect(client, name, options);
    // A semaphore of the same name, shown only when it has holders or waiters.
    const sem = await readSemaphoreStatus(client, name, prefix);
    const used = sem.holders > 0 || sem.waiters > 0;
    const semWho = used ? await RedisSemaphore.inspect(client, name, options) : undefined;
    if (json) {
      const lock = { ...status, holders: who.holders, queue: who.waiters };
      const semaphore = semWho &&
        { ...sem, holderCount: sem.holders, holders: semWho.holders, queue: semWho.waiters };
      out.push(`${JSON.stringify(semaphore ? { ...lock, semaphore } : lock)}\n`);
    } else {
      const [lock, state, waiting, fence] = formatStatus(status).split("\n");
      const { holders, queue } = formatHolders(who);
      const text = `${lock}\n${state}\n${holders}${waiting}\n${queue}${fence}\n`;
      if (!semWho) {
        out.push(text);
        continue;
      }
      // The semaphore's own holders and queue, with who they are.
      const [count, semWaiting] = formatSemaphoreStatus(sem).split("\n");
      const semPeople = formatHolders(semWho);
      out.push(`${text}${count}\n${semPeople.holders}${semWaiting}\n${semPeople.queue}`);
    }
  }
  return json ? out.join("") : out.join("\n");
}

/**
 * `redis-lock status`: prints the state of each lock named.
 *
 * @param args The arguments after `status`.
 * @param env The environment (for `REDIS_URL`).
 * @returns 0 (also when a lock is free; with `--watch`, after Ctrl-C).
 * @throws {UsageError} For bad arguments.
 * @throws {Error} When Redis cannot be reached or fails.
 *
 * @example
 * ```ts
 * import process from "node:process";
 * import { statusCli } from "./status.ts";
 *
 * process.exitCode = await statusCli(["--json", "deploy", "backup"], process.env);
 * ```
 */
export async function statusCli(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const { flags, positionals, rest } = parseArgs("status", args, FLAGS, Infinity);
  if (flags.help) {
    process.stdout.write(STATUS_HELP);
    return 0;
  }
  const names = [...positionals, ...rest];
  if (names.length === 0) throw new UsageError("status", "missing the lock name");
  if (names.includes("")) throw new UsageError("status", "a lock name must not be empty");
  const prefix = flags.prefix as string | undefined;
  if (prefix !== undefined && /[{}]/.test(prefix)) {
    throw new UsageError(
      "status",
      `--prefix must not contain "{" or "}", got ${JSON.stringify(prefix)}`,
    );
  }
  const url = redisUrl("status", flags.url as string | undefined, env);
  const client = await connectRedis(url);
  try {
    const show = () => showStatus(client, names, flags.json === true, prefix);
    if (flags.watch) await watch(show);
    else process.stdout.write(await show());
    return 0;
  } finally {
    await closeRedis(client);
  }
}
