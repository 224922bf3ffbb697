/**
 * `redis-lock run`: wait for the lock, run a command while holding it, and
 * make sure no process of the command runs without it: the command's whole
 * process group is stopped when the lock is lost, revoked by
 * `release --force`, or its lease could end before a renewal succeeds, and
 * a watchdog stops it should `redis-lock` itself die. The lock is released
 * once every process of the group is gone, and `run` exits with the
 * command's exit code.
 *
 * @module
 */

import process from "node:process";
import {
  type LockClient,
  LockNotOwnedError,
  RedisLock,
  RedisSemaphore,
  RedisSpinLock,
} from "@x/redis-lock";
import { superviseChild, type Supervision } from "./child.ts";
import { formatDuration } from "./duration.ts";
import { parseRunArgs, type RunOptions } from "./run_options.ts";
import { EXIT_CODES, messageOf, printError, signalExitCode } from "./exit.ts";
import { RUN_HELP } from "./help.ts";
import { LeaseKeeper } from "./lease.ts";
import { startProgress } from "./progress.ts";
import { type CliClient, closeRedis, connectRedis } from "./redis.ts";
import { listenToLock, type LockListener } from "./revoke.ts";
import { type SignalTrap, trapSignals } from "./signals.ts";
import { within } from "./timers.ts";

/** The lock (or, with `--limit`, the semaphore permit) a `run` holds. */
type HeldLock = RedisLock | RedisSpinLock | RedisSemaphore;

/** How long the release at the end may take before redis-lock leaves the lock to expire. */
const RELEASE_TIMEOUT_MS = 5_000;

/** The variable that carries the fencing token to the command. */
const FENCING_VARIABLE = "REDIS_LOCK_FENCING_TOKEN";

/**
 * `redis-lock run`: parses `args`, prints the help or runs the command under
 * the lock.
 *
 * @param args The arguments after `run`.
 * @param env The environment (for `REDIS_URL`, and passed on to the command).
 * @returns The exit code (see `redis-lock run --help`).
 * @throws {UsageError} For bad arguments.
 * @throws {Error} When Redis cannot be reached or fails.
 *
 * @example
 * ```ts
 * import process from "node:process";
 * import { runCli } from "./run.ts";
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
    let client: CliClient;
    try {
      client = await connectRedis(options.url, signals.signal);
    } catch (err) {
      if (signals.received === undefined || err !== signals.signal.reason) throw err;
      if (!options.quiet) printError(`${signals.received} while connecting; lock not taken`);
      return signalExitCode(signals.received);
    }
    try {
      const lock = makeLock(client as unknown as LockClient, options);
      const waited = await waitForLock(lock, client, options, signals);
      if (waited !== true) return waited;
      return await runHolding(lock, client, options, signals, env);
    } finally {
      await closeRedis(client);
    }
  } finally {
    signals.dispose();
  }
}

/**
 * The lock `run` holds: a `RedisSemaphore` permit with `--limit`, else a
 * lock. The lease is renewed by LeaseKeeper, which times the command's stop
 * from it.
 */
function makeLock(client: LockClient, options: RunOptions): HeldLock {
  const { ttl, fencing, fair, limit, name } = options;
  if (limit !== undefined) {
    return new RedisSemaphore(client, name, { limit, ttl, fair, autoExtend: false });
  }
  const Lock = options.spin ? RedisSpinLock : RedisLock;
  return new Lock(client, name, { ttl, fencing, fair, autoExtend: false });
}

/** true once held; else the exit code (busy, or a signal while waiting). */
async function waitForLock(
  lock: HeldLock,
  client: CliClient,
  options: RunOptions,
  signals: SignalTrap,
): Promise<true | number> {
  // The status line reads the lock's keys: none for a semaphore.
  const showProgress = !options.quiet && process.stderr.isTTY === true && options.wait > 0 &&
    options.limit === undefined;
  const progress = showProgress ? startProgress(client, lock.name) : undefined;
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
    const busy = options.limit === undefined
      ? `lock ${JSON.stringify(options.name)} is held by another holder`
      : `semaphore ${JSON.stringify(options.name)} has no free permit of ${options.limit}`;
    printError(`${busy}; ${waited}`);
  }
  return options.conflictExitCode;
}

/**
 * The command's environment: `redis-lock`'s own, with the fencing token
 * when there is one, and without an inherited token otherwise.
 */
function commandEnv(
  env: Readonly<Record<string, string | undefined>>,
  token: number | undefined,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && name !== FENCING_VARIABLE) result[name] = value;
  }
  if (token !== undefined) result[FENCING_VARIABLE] = `${token}`;
  return result;
}

/**
 * Runs the command while `lock` is held, stops it whenever the lock cannot
 * be vouched for, then releases the lock.
 */
async function runHolding(
  lock: HeldLock,
  client: CliClient,
  options: RunOptions,
  signals: SignalTrap,
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const name = JSON.stringify(options.name);
  const grace = formatDuration(options.killAfter);
  let listener: LockListener | undefined;
  let keeper: LeaseKeeper | undefined;
  let supervision: Supervision | undefined;
  let started = false;
  let finished = false;
  let lost: string | undefined; // why the command is stopped for the lock's sake (exit 76)

  /** Stops the command (or keeps it from starting) because of the lock. */
  const stopFor = (reason: string, killBy?: number) => {
    if (finished) return;
    const first = lost === undefined;
    lost ??= reason;
    if (first && started) {
      const how = supervision?.suspended
        ? "SIGKILL: it is stopped, and must not run again"
        : killBy !== undefined && killBy <= performance.now()
        ? "SIGKILL"
        : `SIGTERM, SIGKILL after ${
          killBy === undefined ? grace : formatDuration(killBy - performance.now())
        }`;
      printError(`${reason}; stopping the command (${how})`);
    }
    supervision?.stop(killBy);
  };

  try {
    if (signals.received !== undefined) return signalExitCode(signals.received);
    // release --force takes a lock, not a semaphore's permit: a semaphore
    // holder does not listen on the lock's revoke channel.
    listener = options.limit !== undefined ? undefined : await listenToLock(client, options.name, {
      revoke(acknowledge) {
        if (finished || !lock.held) return;
        acknowledge(options.killAfter).catch(() => {});
        stopFor(`lock ${name} was revoked by release --force`);
      },
    });
    keeper = new LeaseKeeper(lock, options.ttl, options.killAfter, {
      stop: (reason) => stopFor(`lock ${name}: ${reason}`, keeper!.killAt),
      kill: (reason) => {
        if (finished) return;
        if (started) printError(`lock ${name}: ${reason}; SIGKILL, before the lease can end`);
        lost ??= `lock ${name}: ${reason}`;
        supervision?.stop(performance.now());
      },
      lost: (reason) => stopFor(`lock ${name} was lost: ${reason}`),
    });
    try {
      await keeper.start(); // renews once: the lease's start is now known exactly
    } catch (err) {
      if (!(err instanceof LockNotOwnedError)) throw err;
      lost ??= `lock ${name} was lost: its key is gone or held by another holder`;
    }
    supervision = superviseChild({
      command: options.command,
      env: commandEnv(env, "fencingToken" in lock ? lock.fencingToken : undefined),
      killAfter: options.killAfter,
      foreground: options.foreground,
      quiet: options.quiet,
      signals,
      mayStart: () => {
        started = lost === undefined && signals.received === undefined && keeper!.mayRun;
        return started;
      },
      mayContinue: () => lost === undefined && keeper!.mayRun,
    });
    if (lost !== undefined) supervision.stop();
    const outcome = await supervision.outcome;
    finished = true;
    if (!outcome.started) {
      if (lost !== undefined) {
        printError(`${lost}; the command was not started`);
        return EXIT_CODES.lost;
      }
      if (signals.received !== undefined) return signalExitCode(signals.received);
      return outcome.code;
    }
    if (outcome.killedStopped) {
      printError(
        `lock ${name}: the lease may have ended while redis-lock was stopped; killed the command`,
      );
      return EXIT_CODES.lost;
    }
    return lost !== undefined ? EXIT_CODES.lost : outcome.code;
  } finally {
    finished = true;
    await listener?.close();
    keeper?.close();
    await releaseWithin(lock, RELEASE_TIMEOUT_MS);
  }
}

/** Releases, giving up after `ms` (Redis unreachable): the lease then runs out by itself. */
async function releaseWithin(lock: HeldLock, ms: number): Promise<void> {
  try {
    await within(lock.release(), ms, "no reply from Redis");
  } catch (err) {
    if (!(err instanceof LockNotOwnedError)) {
      printError(`could not release the lock: ${messageOf(err)}; it expires with its lease`);
    }
  }
}
