/**
 * The token of one acquisition, in one place. The scripts read parts of it:
 *
 * `<uuid>@<mark>.<ttl>[~<at>,<identity>][#f]`
 *
 * - `<uuid>`: `crypto.randomUUID()`, fresh for each acquisition;
 * - `@<mark>.`: {@linkcode LOCAL_MARK}, 64 random bits of this copy of the
 *   module: a release whose waiter's token carries the releaser's own mark
 *   names the waiter in its reply instead of publishing (in-process hand-off),
 *   and a hand-off to another process goes to that process's own channel,
 *   `<lock channel>:<mark>` (`RELEASE` reads it with `@(%x+)%.`);
 * - `<ttl>`: the waiter's lease in ms: a hand-off holds the key no longer
 *   than this (`RELEASE` reads it with `%.(%d+)`);
 * - `~<at>,<identity>` (unless `identity: false`): who acquires, carried in
 *   the token so that recording it costs Redis nothing: the key, the queue
 *   and the holders' sets hold tokens anyway. `<at>` is when `acquire()`
 *   began (the caller's wall clock, ms, base 36), `<identity>` the
 *   URI-encoded `identityTag` (`lib/util/_identity.ts`: no `,`, space, `@`
 *   or `#`; a hand-off message splits on spaces);
 * - `#f`: the waiter wants a fencing token with a hand-off (`RELEASE` reads
 *   the token's last two characters, as releases did before the identity
 *   was added: a process still on an earlier version, during a rolling
 *   upgrade, gives a hand-off to a waiter of this one its fencing token).
 *
 * @module
 */

import { newToken } from "../util/_runtime.ts";
import { readIdentityTag } from "../util/_identity.ts";
import type { HolderIdentity } from "./inspection.ts";

/** 64 random bits (hex) of this copy of the module; also names its hand-off channel. */
export const MARK: string = newToken().replaceAll("-", "").slice(0, 16);

/** Marks the tokens of this module's acquisitions: `@<MARK>.`. */
export const LOCAL_MARK = `@${MARK}.`;

/**
 * A new acquisition token (see the module doc); `tag` is the holder's
 * `identityTag` (`lib/util/_identity.ts`), "" for none.
 */
export function acquisitionToken(ttl: number, fencing: boolean, tag: string): string {
  const who = tag === "" ? "" : `~${Date.now().toString(36)},${tag}`;
  return `${newToken()}${LOCAL_MARK}${ttl}${who}${fencing ? "#f" : ""}`;
}

/** What a token tells of its holder, read back (for `inspect()`). */
export interface TokenFacts {
  /** The lease asked for, in ms (none in a token not made here). */
  readonly ttl?: number;
  /** Whether it asked for fencing tokens. */
  readonly fencing: boolean;
  /** When its `acquire()` began, by the holder's clock (with an identity). */
  readonly startedAt?: number;
  /** Who it is (none with `identity: false`). */
  readonly identity?: HolderIdentity;
}

/** Reads a token back (any string: parts it lacks are left out). */
export function readToken(token: string): TokenFacts {
  const fencing = token.endsWith("#f");
  const body = fencing ? token.slice(0, -2) : token;
  const tilde = body.indexOf("~");
  const head = tilde < 0 ? body : body.slice(0, tilde);
  const ttl = head.match(/@[0-9a-f]+\.(\d+)/)?.[1];
  const facts = { fencing, ...(ttl && { ttl: Number(ttl) }) };
  if (tilde < 0) return facts;
  const tail = body.slice(tilde + 1);
  const comma = tail.indexOf(",");
  const startedAt = parseInt(comma < 0 ? tail : tail.slice(0, comma), 36);
  return {
    ...facts,
    ...(Number.isFinite(startedAt) && { startedAt }),
    identity: readIdentityTag(comma < 0 ? "" : tail.slice(comma + 1)),
  };
}
