/**
 * Argument checks. Each throws a `TypeError` (wrong type, unknown option) or
 * a `RangeError` (right type, bad value) that names the argument and shows
 * the value.
 *
 * @module
 */

import { showValue } from "../util/_format.ts";
import { MAX_TIMER_MS } from "../util/_timers.ts";

/** Checks that `options` is undefined or a plain object with known keys only. */
export function checkOptions<T extends object>(
  options: T | undefined,
  what: string,
  known: readonly string[],
): Partial<T> {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`${what} must be an object, got ${showValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `${what} has an unknown option ${JSON.stringify(key)}; known: ${known.join(", ")}`,
      );
    }
  }
  return options;
}

/** A lock name: a non-empty string. */
export function checkName(name: unknown): string {
  if (typeof name !== "string") {
    throw new TypeError(`name must be a string, got ${showValue(name)}`);
  }
  if (name.length === 0) throw new RangeError(`name must not be empty, got ""`);
  return name;
}

function checkNumber(what: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(`${what} must be a number of milliseconds, got ${showValue(value)}`);
  }
  if (Number.isNaN(value)) throw new RangeError(`${what} must not be NaN`);
  return value;
}

/** A lease length: a whole number of ms, 1 to 2^31-1. */
export function checkTtl(what: string, value: unknown): number {
  const ttl = checkNumber(what, value);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TIMER_MS) {
    throw new RangeError(
      `${what} must be a whole number of milliseconds from 1 to ${MAX_TIMER_MS}, got ${ttl}`,
    );
  }
  return ttl;
}

/** A duration that may be 0; `Infinity` only when `infinite` is allowed. */
export function checkDuration(what: string, value: unknown, infinite: boolean): number {
  const ms = checkNumber(what, value);
  if (ms < 0 || (!infinite && !Number.isFinite(ms))) {
    const allowed = infinite ? "0 or more (Infinity waits forever)" : "a finite number, 0 or more";
    throw new RangeError(`${what} must be ${allowed}, got ${ms}`);
  }
  return ms;
}

/** A boolean option. */
export function checkBoolean(what: string, value: unknown): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(`${what} must be a boolean, got ${showValue(value)}`);
  }
  return value;
}

/** An `AbortSignal` or undefined. */
export function checkSignal(what: string, value: unknown): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value;
  throw new TypeError(`${what} must be an AbortSignal, got ${showValue(value)}`);
}

/** The longest `label` and `prefix` accepted, in characters. */
export const MAX_RECORD_LENGTH = 200;

/** A holder's label: a string of 1 to 200 characters. */
export function checkLabel(what: string, value: unknown): string {
  if (typeof value !== "string") {
    throw new TypeError(`${what} must be a string, got ${showValue(value)}`);
  }
  if (value.length === 0 || value.length > MAX_RECORD_LENGTH) {
    throw new RangeError(
      `${what} must be 1 to ${MAX_RECORD_LENGTH} characters long, got ${showValue(value)}`,
    );
  }
  return value;
}

/** A key prefix: a string of at most 200 characters, without `{` or `}`. */
export function checkPrefix(what: string, value: unknown): string {
  if (typeof value !== "string") {
    throw new TypeError(`${what} must be a string, got ${showValue(value)}`);
  }
  if (value.length > MAX_RECORD_LENGTH || /[{}]/.test(value)) {
    throw new RangeError(
      `${what} must be at most ${MAX_RECORD_LENGTH} characters, without "{" or "}" ` +
        `(the name is the hash tag), got ${showValue(value)}`,
    );
  }
  return value;
}
