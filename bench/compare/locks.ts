/**
 * The locks `main.ts` measures, each behind one small interface: a
 * contender is one client connection with one lock instance on it. The
 * hand-off floor is in `floor.ts`, the peers in `peers.ts`.
 *
 * @module
 */

import { type LockClient, RedisLock, RedisSpinLock } from "../../mod.ts";
import { type ClientKind, ioRedis, nodeRedis } from "./clients.ts";
import { handoffFloor } from "./floor.ts";
import { protocolFloor } from "./bare.ts";
import { redlock, semaphore, TUNED_DELAY_MS, TUNED_RETRIES, universal } from "./peers.ts";
import { SEMAPHORES } from "./semaphores.ts";

/** Either lock of this package. */
type AnyLock = RedisLock | RedisSpinLock;

/** One contender: its own connection and its own lock instance. */
export interface Contender {
  /**
   * Resolves true when acquired and false for a failed attempt (the lock's
   * own timeout ran out). Rejects with `signal.reason` once aborted, for
   * the locks that take a signal; the others ignore it.
   */
  acquire(signal: AbortSignal): Promise<boolean>;
  release(): Promise<void>;
  close(): Promise<void>;
}

/** A lock under test. */
export interface LockSpec {
  /** Short stable id, used in the JSON output and by `--only`. */
  readonly id: string;
  readonly label: string;
  readonly client: ClientKind;
  /** The options it runs with, for the report. */
  readonly settings: string;
  open(url: string, name: string): Promise<Contender>;
}

function ours(
  id: string,
  label: string,
  settings: string,
  make: (client: LockClient, name: string) => AnyLock,
  acquire: (lock: AnyLock, signal: AbortSignal) => Promise<boolean>,
  client: ClientKind = "node-redis",
): LockSpec {
  return {
    id,
    label,
    client,
    settings,
    async open(url, name) {
      const [conn, close] = client === "node-redis"
        ? await nodeRedis(url).then((c) => [c, () => c.close()] as const)
        : await ioRedis(url).then((c) => [c, async () => void await c.quit()] as const);
      const lock = make(conn, name);
      return {
        acquire: (signal) => acquire(lock, signal),
        release: () => lock.release(),
        close,
      };
    },
  };
}

function spin(sleepTime: number): LockSpec {
  return ours(
    `spin-${sleepTime}`,
    `RedisSpinLock sleepTime ${sleepTime}`,
    `acquire({ sleepTime: ${sleepTime} })`,
    (client, name) => new RedisSpinLock(client, name),
    (lock, signal) => (lock as RedisSpinLock).acquire({ signal, sleepTime }),
  );
}

/** The hand-off floor on each client: the baseline of every ratio. */
export const FLOOR_IDS: Readonly<Record<ClientKind, string>> = {
  "node-redis": "floor",
  "ioredis": "floor-io",
};

/** The default lock on each client: the rows the "Done when" criteria judge. */
export const DEFAULT_IDS: Readonly<Record<ClientKind, string>> = {
  "node-redis": "redislock",
  "ioredis": "redislock-io",
};

/** The locks that also run the multi-process scenario (one process per contender). */
export const MULTI_PROCESS_IDS: readonly string[] = [
  "floor",
  "floor-io",
  "bare",
  "bare-io",
  "redislock",
  "redislock-io",
  "redislock-race",
  "spin-100",
  "redlock-5",
  "semaphore-5",
  "universal-5",
];

/** Every lock, in report order. */
export const LOCKS: readonly LockSpec[] = [
  handoffFloor(FLOOR_IDS["node-redis"], "node-redis"),
  handoffFloor(FLOOR_IDS.ioredis, "ioredis"),
  protocolFloor("bare", "node-redis"),
  protocolFloor("bare-io", "ioredis"),
  ours(
    DEFAULT_IDS["node-redis"],
    "RedisLock (fair, default)",
    "new RedisLock(client, name)",
    (client, name) => new RedisLock(client, name),
    (lock, signal) => lock.acquire({ signal }),
  ),
  ours(
    DEFAULT_IDS.ioredis,
    "RedisLock (fair, default)",
    "new RedisLock(client, name)",
    (client, name) => new RedisLock(client, name),
    (lock, signal) => lock.acquire({ signal }),
    "ioredis",
  ),
  ours(
    "redislock-race",
    "RedisLock fair: false",
    "new RedisLock(client, name, { fair: false })",
    (client, name) => new RedisLock(client, name, { fair: false }),
    (lock, signal) => lock.acquire({ signal }),
  ),
  spin(100),
  spin(TUNED_DELAY_MS),
  redlock("redlock", "redlock defaults"),
  redlock("redlock-5", "redlock retryDelay 5", {
    retryDelay: TUNED_DELAY_MS,
    retryJitter: 0,
    retryCount: TUNED_RETRIES,
  }),
  semaphore("semaphore", "redis-semaphore defaults"),
  semaphore("semaphore-5", "redis-semaphore retryInterval 5", TUNED_DELAY_MS),
  universal("universal", "redlock-universal defaults"),
  universal("universal-5", "redlock-universal retryDelay 5", TUNED_DELAY_MS),
];

/** The lock (or semaphore, `semaphores.ts`) with this id. */
export function lockById(id: string): LockSpec {
  const spec = LOCKS.find((s) => s.id === id) ?? SEMAPHORES.find((s) => s.id === id);
  if (!spec) throw new Error(`unknown lock id ${id}`);
  return spec;
}
