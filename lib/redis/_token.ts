/**
 * The token of one acquisition, in one place. The scripts read parts of it:
 *
 * `<uuid>@<mark>.<ttl>[#f]`
 *
 * - `<uuid>`: `crypto.randomUUID()`, fresh for each acquisition;
 * - `@<mark>.`: {@linkcode LOCAL_MARK}, 64 random bits of this copy of the
 *   module: a release whose waiter's token carries the releaser's own mark
 *   names the waiter in its reply instead of publishing (in-process hand-off),
 *   and a hand-off to another process goes to that process's own channel,
 *   `<lock channel>:<mark>` (`RELEASE` reads it with `@(%x+)%.`);
 * - `<ttl>`: the waiter's lease in ms: a hand-off holds the key no longer
 *   than this (`RELEASE` reads it with `%.(%d+)`);
 * - `#f`: the waiter wants a fencing token with a hand-off.
 *
 * @module
 */

import { newToken } from "../util/_runtime.ts";

/** 64 random bits (hex) of this copy of the module; also names its hand-off channel. */
export const MARK: string = newToken().replaceAll("-", "").slice(0, 16);

/** Marks the tokens of this module's acquisitions: `@<MARK>.`. */
export const LOCAL_MARK = `@${MARK}.`;

/** A new acquisition token (see the module doc). */
export function acquisitionToken(ttl: number, fencing: boolean): string {
  return `${newToken()}${LOCAL_MARK}${ttl}${fencing ? "#f" : ""}`;
}
