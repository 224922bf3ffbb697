/**
 * Lock and acquire options, checked and with their defaults filled in.
 *
 * @module
 */

import type { AcquireOptions, LockOptions } from "./options.ts";
import type { RecordOptions } from "./record_options.ts";
import { identityTag } from "../util/_identity.ts";
import * as check from "./_validate.ts";

/** Every option of `LockOptions`. */
export const LOCK_KEYS: readonly string[] = [
  "ttl",
  "blockingTimeout",
  "autoExtend",
  "fencing",
  "fair",
  "handoffTimeout",
  "label",
  "identity",
  "prefix",
];
const ACQUIRE_KEYS = ["blocking", "blockingTimeout", "signal"];

/** A lock's settings, defaults applied. */
export interface LockSettings extends Required<Omit<LockOptions, keyof RecordOptions>> {
  /** The label given, if any. */
  readonly label: string | undefined;
  /** Whether holders record who they are. */
  readonly identity: boolean;
  /** The identity tokens carry ("" when `identity` is off; `_token.ts`). */
  readonly who: string;
  /** The key prefix given (undefined: the primitive's own default). */
  readonly prefix: string | undefined;
}

/** The settings of one acquisition. */
export interface AcquireSettings {
  readonly blocking: boolean;
  readonly timeout: number;
  readonly signal: AbortSignal | undefined;
}

function or<T>(value: T | undefined, fallback: T, checked: (v: T) => T): T {
  return value === undefined ? fallback : checked(value);
}

/**
 * Checks a lock's options; throws TypeError/RangeError naming the bad one.
 * `keys`: the option names accepted (a primitive may take fewer).
 */
export function lockSettings(
  options: LockOptions | undefined,
  defaults: Partial<LockOptions> = {},
  keys: readonly string[] = LOCK_KEYS,
): LockSettings {
  // An option given as undefined takes its default, the class's included.
  const given = Object.entries(check.checkOptions(options, "options", keys));
  const o: Partial<LockOptions> = {
    ...defaults,
    ...Object.fromEntries(given.filter(([, v]) => v !== undefined)),
  };
  return {
    ttl: or(o.ttl, 30_000, (v) => check.checkTtl("options.ttl", v)),
    blockingTimeout: or(o.blockingTimeout, 60_000, (v) => blockingTimeout(v)),
    autoExtend: or(o.autoExtend, true, (v) => check.checkBoolean("options.autoExtend", v)),
    fencing: or(o.fencing, false, (v) => check.checkBoolean("options.fencing", v)),
    fair: or(o.fair, false, (v) => check.checkBoolean("options.fair", v)),
    handoffTimeout: or(o.handoffTimeout, 3_000, (v) => check.checkTtl("options.handoffTimeout", v)),
    ...recordSettings(o),
  };
}

/** Checks `label`, `identity` and `prefix`, and makes the identity tag. */
function recordSettings(o: RecordOptions) {
  const label = or<string | undefined>(
    o.label,
    undefined,
    (v) => check.checkLabel("options.label", v),
  );
  const identity = or(o.identity, true, (v) => check.checkBoolean("options.identity", v));
  const prefix = or<string | undefined>(
    o.prefix,
    undefined,
    (v) => check.checkPrefix("options.prefix", v),
  );
  return { label, identity, who: identity ? identityTag(label) : "", prefix };
}

/** Checks one acquisition's options (`extra`: keys a subclass adds). */
export function acquireSettings(
  options: AcquireOptions | undefined,
  extra: readonly string[],
  defaultTimeout: number,
): AcquireSettings {
  // The hot path: no options, or only the usual ones; no closures, no copies.
  if (options === undefined) return { blocking: true, timeout: defaultTimeout, signal: undefined };
  const known = extra.length === 0 ? ACQUIRE_KEYS : [...ACQUIRE_KEYS, ...extra];
  const o = check.checkOptions(options, "options", known);
  return {
    blocking: o.blocking === undefined ? true : check.checkBoolean("options.blocking", o.blocking),
    timeout: o.blockingTimeout === undefined ? defaultTimeout : blockingTimeout(o.blockingTimeout),
    signal: check.checkSignal("options.signal", o.signal),
  };
}

function blockingTimeout(value: unknown): number {
  return check.checkDuration("options.blockingTimeout", value, true);
}
