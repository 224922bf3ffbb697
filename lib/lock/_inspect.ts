/**
 * `inspect()` of every primitive: checks its arguments, then reads the
 * primitive's state in one script (`lib/redis/_inspect.ts`).
 *
 * @module
 */

import { toDriver } from "../redis/_drivers.ts";
import { inspectKeys, type PrimitiveKind } from "../redis/_inspect.ts";
import type { InspectOptions, LockInspection } from "../redis/inspection.ts";
import { showValue } from "../util/_format.ts";
import * as check from "./_validate.ts";

/** The most waiters (and semaphore holders or readers) one `inspect()` lists. */
export const MAX_LISTED = 10_000;

function checkMax(value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(`options.maxWaiters must be a number, got ${showValue(value)}`);
  }
  if (!Number.isInteger(value) || value < 0 || value > MAX_LISTED) {
    throw new RangeError(
      `options.maxWaiters must be a whole number from 0 to ${MAX_LISTED}, got ${value}`,
    );
  }
  return value;
}

/** Checks the arguments, then reads who holds and who waits. */
export async function inspectPrimitive(
  kind: PrimitiveKind,
  client: unknown,
  name: string,
  options: InspectOptions | undefined,
): Promise<LockInspection> {
  const driver = toDriver(client);
  check.checkName(name);
  const o = check.checkOptions(options, "options", ["prefix", "maxWaiters"]);
  const prefix = o.prefix === undefined ? undefined : check.checkPrefix("options.prefix", o.prefix);
  const max = o.maxWaiters === undefined ? 1_000 : checkMax(o.maxWaiters);
  return await inspectKeys(driver, kind, name, prefix, max);
}
