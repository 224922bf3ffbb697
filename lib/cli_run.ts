/**
 * `redis-lock run`: wait for the lock, run a command while holding it (the
 * lease renewed all along), release it when the command ends, and exit with
 * the command's exit code.
 *
 * @module
 */

import process from "node:process";
type BaseLock = RedisLock | RedisSpinLock;
import type { RedisDriver } from "./redis/driver.ts";
import { LockNotOwnedError } from "./lock/errors.ts";
import { RedisLock } from "./lock/redis_lock.ts";
import { resolveDriver } from "./clients/lock_client.ts";
import { RedisSpinLock } from "./lock/spin_lock.ts";
import { superviseChild } from "./cli_child.ts";
import { formatDuration } from "./cli_duration.ts";
import { parseRunArgs, type RunOptions } from "./cli_run_options.ts";
import { EXIT_CODES, messageOf, printError, signalExitCode } from "./cli_exit.ts";
import { RUN_HELP } from "./cli_help.ts";
import { startProgress } from "./cli_progress.ts";
import { closeRedis, connectRedis } from "./cli_redis.ts";
import { type SignalTrap, trapSignals } from "./cli_signals.ts";

/** How long the release at the end may take before redis-lock leaves the lock to expire. */
const RELEASE_TIMEOUT_MS = 5_000;

/**
 * `redis-lock run`: parses `args`, prints the help or runs the command under
 * the lock.
 *
 * @param args The arguments after `run`.
 * @param env The environment (for `REDIS_URL`).
 * @returns The exit code (see `redis-lock run --help`).
 * @throws {UsageError} For bad arguments.
 * @throws {Error} When Redis cannot be reached or fails.
 *
 * @example
 * ```ts
 * import process from "node:process";
 * import { runCli } from "./cli_run.ts";
 *
 * process.exitCode = await runCli(["--wait", "10s", "job", "--", "make"], process.env);
 * ```
 */
export async function runCli(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const options = parseRunArgs(args, env);
  if (!options) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  const signals = trapSignals();
  try {
    const client = await connectRedis(options.url);
    try {
      const Lock = options.spin ? RedisSpinLock : RedisLock;
      const { ttl, fencing, fair } = options;
      const lock = new Lock(client, options.name, { ttl, fencing, fair });
      const waited = await waitForLock(lock, resolveDriver(client), options, signals);
      return waited === true ? await runHolding(lock, options, signals) : waited;
    } finally {
      await closeRedis(client);
    }
  } finally {
    signals.dispose();
  }
}

/** true once held; else the exit code (busy, or a signal while waiting). */
async function waitForLock(
  lock: BaseLock,
  driver: RedisDriver,
  options: RunOptions,
  signals: SignalTrap,
): Promise<true | number> {
  const showProgress = !options.quiet && process.stderr.isTTY === true && options.wait > 0;
  const progress = showProgress ? startProgress(driver, lock.name) : undefined;
  try {
    if (await lock.acquire({ blockingTimeout: options.wait, signal: signals.signal })) return true;
  } catch (err) {
    if (signals.received === undefined || err !== signals.signal.reason) throw err;
    if (!options.quiet) printError(`${signals.received} while waiting; lock not taken`);
    return signalExitCode(signals.received);
  } finally {
    progress?.stop();
  }
  if (!options.quiet) {
    const waited = options.wait === 0
      ? "not waiting (--wait 0)"
      : `waited ${formatDuration(options.wait)}`;
    printError(`lock ${JSON.stringify(options.name)} is held by another holder; ${waited}`);
  }
  return options.conflictExitCode;
}

/** Runs the command while `lock` is held, then releases it. */
async function runHolding(
  lock: BaseLock,
  options: RunOptions,
  signals: SignalTrap,
): Promise<number> {
  try {
    if (signals.received !== undefined) return signalExitCode(signals.received);
    if (lock.signal.aborted) {
      printError(messageOf(lock.signal.reason));
      return EXIT_CODES.lost;
    }
    const token = lock.fencingToken;
    const outcome = await superviseChild({
      command: options.command,
      env: token === undefined ? undefined : { REDIS_LOCK_FENCING_TOKEN: `${token}` },
      lost: lock.signal,
      killAfter: options.killAfter,
      signals,
    });
    return outcome.lost ? EXIT_CODES.lost : outcome.code;
  } finally {
    await releaseWithin(lock, RELEASE_TIMEOUT_MS);
  }
}

/** Releases, giving up after `ms` (Redis unreachable): the lease then runs out by itself. */
async function releaseWithin(lock: BaseLock, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no reply from Redis within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([lock.release(), timeout]);
  } catch (err) {
    if (!(err instanceof LockNotOwnedError)) {
      printError(`could not release the lock: ${messageOf(err)}; it expires with its lease`);
    }
  } finally {
    clearTimeout(timer);
  }
}
