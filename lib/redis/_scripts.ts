/**
 * Every Lua script the library runs, in one place. Each is atomic on the
 * server; ownership is always a compare on the owner's token. Durations are
 * milliseconds, measured by Redis (`PX`, `PEXPIRE`, `PTTL`), never by a
 * client's clock.
 *
 * @module
 */

import { LUA_CLOCK, LUA_QUEUE, LUA_WHO } from "./_lua.ts";

/** A named Lua script; its SHA-1 is computed once, when first run. */
export interface Script {
  readonly name: string;
  readonly source: string;
}

/**
 * How long a race-mode waiter's failed attempt marks the lock as raced for
 * (`RACERS` key), in ms: its next attempt comes within the re-check interval
 * (2 s), and a release publishes `released` only while the mark lasts.
 */
export const RACER_MARK_MS = 2_500;

/**
 * Take the lock if it is free. A key that already holds this token was taken
 * by an earlier attempt of the same acquisition whose answer was lost (the
 * connection dropped): it counts as taken, with its lease renewed and a new
 * fencing token (the one issued then was never seen, and the counter may
 * have been lost since). A race-mode waiter's failed attempt marks the lock
 * as raced ({@linkcode RACER_MARK_MS}).
 * KEYS: lock key, fencing counter, racers mark.
 * ARGV: token, ttl (ms), fencing ("1"/"0"), mark (ms, "0" for none).
 * Reply: `{1, fencingToken or 0}` when taken, `{0, pttl}` when held
 * (pttl is -1 for a key without TTL).
 */
export const ACQUIRE: Script = {
  name: "acquire",
  source: LUA_CLOCK + `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if ARGV[3] == '1' then return {1, next_fence(KEYS[2])} end
  return {1, 0}
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  if ARGV[3] == '1' then return {1, next_fence(KEYS[2])} end
  return {1, 0}
end
if ARGV[4] ~= '0' then redis.call('SET', KEYS[3], '1', 'PX', ARGV[4]) end
return {0, redis.call('PTTL', KEYS[1])}`,
};

/**
 * How long fair mode's queue outlives the latest liveness deadline written
 * to it, in ms: a name nobody uses any more leaves no key behind once its
 * lease and its waiters' deadlines are over.
 */
export const QUEUE_SLACK_MS = 500;

/**
 * Fair mode: take the lock if it is free and nobody is queued (as cheaply as
 * `ACQUIRE`) or this waiter is first in the queue, or take up a hand-off
 * already made to this token; otherwise join (or stay in) the queue and
 * refresh this waiter's liveness deadline. The queue then expires
 * {@linkcode QUEUE_SLACK_MS} after the latest liveness deadline.
 * KEYS: lock key, fencing counter, queue.
 * ARGV: token, ttl (ms), fencing ("1"/"0"), liveness (ms), join ("1"/"0"),
 * slack (ms).
 * Reply: `{1, fencingToken or 0}` when held; `{0, pttl}` when not (pttl is
 * -2 when the lock is free but promised to an earlier waiter), with a third
 * element when queued: the queue entry's id (as a string), which a hand-off
 * to this waiter names.
 */
export const FAIR_ACQUIRE: Script = {
  name: "fair_acquire",
  source: LUA_QUEUE + `
local owner = redis.call('GET', KEYS[1])
if not owner and redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  if ARGV[3] == '1' then return {1, next_fence(KEYS[2])} end
  return {1, 0}
end
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  if ARGV[3] == '1' then return {1, next_fence(KEYS[2])} end
  return {1, 0}
end
if not owner then
  local head = live_head(KEYS[3])
  if not head or head == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    if head then leave_queue(KEYS[3], ARGV[1]) end
    if ARGV[3] == '1' then return {1, next_fence(KEYS[2])} end
    return {1, 0}
  end
end
if ARGV[5] ~= '1' then return {0, redis.call('PTTL', KEYS[1])} end
local entry = queue_up(KEYS[3], ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[6]))
return {0, redis.call('PTTL', KEYS[1]), entry}`,
};

/**
 * Release (also a fair waiter's leaving). If the token owns the lock, the
 * lock goes straight to the oldest live queued waiter (key set to its token
 * for `grant` ms, or for the waiter's own ttl when its token carries a
 * shorter one as `.<ttl>`; a fencing token taken when its token ends in
 * "#f"; `grant <token> <fence> <ms> <entry>` published on the waiter's
 * process's own channel, `<channel>:<mark>`, where `entry` is the id of the
 * queue entry served), or, with nobody queued, is deleted and `released` is
 * published on the channel if race-mode waiters marked the lock (the mark is
 * then dropped: a waiter that loses the race marks it again with its failed
 * attempt, before the next release can come). Otherwise the token just
 * leaves the queue.
 * KEYS: lock key, fencing counter, queue, racers mark, and the token's
 * record (`LUA_WHO`) when it renewed (deleted).
 * ARGV: token, channel,
 * grant (ms), publish command (`PUBLISH`, or `SPUBLISH` for sharded
 * Pub/Sub), and optionally the releaser's local marker: a waiter whose token
 * contains it waits in the releaser's own process, so nothing is published
 * for it and the releaser delivers the hand-off itself.
 * Reply: 0 when the token did not own the lock; 1 when it did and the lock
 * is now free; 2 when it was handed on (published);
 * `{1, token, fence, ms, entry}` when it was handed to a local waiter (not
 * published).
 */
export const RELEASE: Script = {
  name: "release",
  source: LUA_QUEUE + `
if KEYS[5] then redis.call('DEL', KEYS[5]) end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  leave_queue(KEYS[3], ARGV[1], ${QUEUE_SLACK_MS})
  return 0
end
local head, entry = live_head(KEYS[3])
if head then
  leave_queue(KEYS[3], head)
  local px = grant_ms(head)
  redis.call('SET', KEYS[1], head, 'PX', int(px))
  local fence = 0
  if string.sub(head, -2) == '#f' then fence = next_fence(KEYS[2]) end
  return announce(head, entry, fence, px)
end
redis.call('DEL', KEYS[1])
if redis.call('DEL', KEYS[4]) == 1 then redis.call(ARGV[4], ARGV[2], 'released') end
return 1`,
};

/**
 * Set the remaining lease if the token owns the lock, and record when its
 * hold began (`LUA_WHO`'s `who_kept`).
 * KEYS: lock key, the token's record. ARGV: token, ttl (ms), how long the
 * holder has held (ms, by its clock).
 * Reply: 1 when extended, else 0.
 */
export const EXTEND: Script = {
  name: "extend",
  source: LUA_CLOCK + LUA_WHO + `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  who_kept(tonumber(ARGV[2]), tonumber(ARGV[3]))
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`,
};

/**
 * The lease left to the token's owner.
 * KEYS: lock key. ARGV: token.
 * Reply: the key's PTTL (ms, -1 without TTL) when owned, -2 when not.
 */
export const OWNED_TTL: Script = {
  name: "owned_ttl",
  source: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PTTL', KEYS[1]) end
return -2`,
};

/**
 * Whether anyone holds the lock. KEYS: lock key. Reply: 1 or 0.
 */
export const LOCKED: Script = {
  name: "locked",
  source: `return redis.call('EXISTS', KEYS[1])`,
};
