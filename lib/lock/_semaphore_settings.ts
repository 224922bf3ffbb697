/**
 * The semaphore's primitive: its options (`limit` checked here, the rest by
 * the lock's rules) and its Redis side.
 *
 * @module
 */

import type { RedisDriver } from "../redis/driver.ts";
import { semaphoreKeys } from "../redis/_semaphore_keys.ts";
import { SemaphoreOps } from "../redis/_semaphore_ops.ts";
import { showValue } from "../util/_format.ts";
import { MAX_TIMER_MS } from "../util/_timers.ts";
import type { Primitive } from "./_lock_core.ts";
import type { LockSettings } from "./_settings.ts";
import type { LockOptions, SemaphoreOptions } from "./options.ts";

/**
 * The options a semaphore takes: `limit` (taken out before the core sees
 * them) and the lock's, but `fencing`.
 */
export const SEMAPHORE_KEYS: readonly string[] = [
  "limit",
  "ttl",
  "blockingTimeout",
  "autoExtend",
  "fair",
  "handoffTimeout",
  "label",
  "identity",
  "prefix",
];

/** A limit: a whole number from 1 to 2^31-1. */
export function checkLimit(value: unknown): number {
  if (typeof value !== "number") {
    const got = value === undefined ? "it is missing" : `got ${showValue(value)}`;
    throw new TypeError(`options.limit must be a number of holders, ${got}`);
  }
  if (!Number.isInteger(value) || value < 1 || value > MAX_TIMER_MS) {
    throw new RangeError(
      `options.limit must be a whole number from 1 to ${MAX_TIMER_MS}, got ${value}`,
    );
  }
  return value;
}

/** Splits a semaphore's options into its limit and the lock options for the core. */
export function splitOptions(options: SemaphoreOptions): { limit: number; rest: LockOptions } {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`options must be an object with a limit, got ${showValue(options)}`);
  }
  const { limit, ...rest } = options;
  return { limit: checkLimit(limit), rest };
}

/** The semaphore's primitive; `made` receives its ops (for `available()`). */
export function semaphorePrimitive(limit: number, made: (ops: SemaphoreOps) => void): Primitive {
  return {
    optionKeys: SEMAPHORE_KEYS,
    ops: (driver: RedisDriver, name: string, settings: LockSettings) => {
      const ops = new SemaphoreOps(driver, semaphoreKeys(name, settings.prefix), {
        ...settings,
        limit,
      });
      made(ops);
      return ops;
    },
  };
}
