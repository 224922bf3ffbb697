/**
 * The semaphore's Lua scripts. Holders are one sorted set, each holder's
 * token scored by the end of its lease in Redis milliseconds (`TIME`, never a
 * client's clock); every script first drops the holders whose lease has
 * ended, so a crashed holder's permit comes back when its lease ends. The
 * fair queue and the hand-off are the lock's (`LUA_QUEUE`). The holders key
 * expires {@linkcode QUEUE_SLACK_MS} after the latest lease written to it, the
 * queue after its latest liveness deadline: nothing is left once nobody
 * holds or waits.
 *
 * @module
 */

import { LUA_CLOCK, LUA_QUEUE, LUA_WHO } from "./_lua.ts";
import type { Script } from "./_scripts.ts";

/**
 * `hold(h, token, ms, slack)`: makes `token` a holder until now + `ms`, and
 * keeps the holders key for at least `ms + slack`. `live(h)`: drops the
 * holders whose lease has ended, returns how many are left.
 */
const LUA_HOLDERS = LUA_QUEUE + `
local function hold(h, token, ms, slack)
  redis.call('ZADD', h, int(now_ms() + ms), token)
  local keep = ms + slack
  if redis.call('PTTL', h) < keep then redis.call('PEXPIRE', h, int(keep)) end
end
local function live(h)
  redis.call('ZREMRANGEBYSCORE', h, '-inf', int(now_ms()))
  return redis.call('ZCARD', h)
end
`;

/**
 * Take a permit if one is free for this caller: fewer than `limit` (the
 * caller's own) live holders and, in fair mode, no earlier live waiter owed
 * it (the waiter is among the first `free` queued, or the queue holds fewer
 * than `free`). A token that already holds (an earlier attempt whose answer
 * was lost, or a hand-off) counts as taken, its lease renewed. Otherwise,
 * with `join`, the waiter joins or stays in the queue (fair) or marks the
 * semaphore as raced (race mode).
 * KEYS: holders, queue, racers mark.
 * ARGV: token, ttl (ms), limit, liveness (ms), join ("1"/"0"), slack (ms),
 * fair ("1"/"0"), racers mark (ms).
 * Reply: `{1, 0}` when held; `{0, ms}` when not, where `ms` is how long
 * until the earliest holder's lease ends, or -2 when a permit is free but
 * owed to earlier waiters; with a third element when queued: the queue
 * entry's id (a string).
 */
export const SEM_ACQUIRE: Script = {
  name: "sem_acquire",
  source: LUA_HOLDERS + `
local h, q, token = KEYS[1], KEYS[2], ARGV[1]
local slack = tonumber(ARGV[6])
local free = tonumber(ARGV[3]) - live(h)
if redis.call('ZSCORE', h, token) then
  hold(h, token, tonumber(ARGV[2]), slack)
  return {1, 0}
end
local fair = ARGV[7] == '1'
if free > 0 then
  local place, queued = 0, false
  if fair and redis.call('EXISTS', q) == 1 and live_head(q) then
    queued = true
    local waiting = redis.call('ZCOUNT', q, '(0', '+inf')
    local rank = redis.call('ZRANK', q, token)
    if rank then place = rank - (redis.call('ZCARD', q) - waiting) else place = waiting end
  end
  if place < free then
    hold(h, token, tonumber(ARGV[2]), slack)
    if queued then leave_queue(q, token) end
    return {1, 0}
  end
end
local wait = -2
if free <= 0 then
  local first = redis.call('ZRANGE', h, '0', '0', 'WITHSCORES')
  wait = tonumber(first[2]) - now_ms()
end
if ARGV[5] ~= '1' then return {0, wait} end
if not fair then
  if ARGV[8] ~= '0' then redis.call('SET', KEYS[3], '1', 'PX', ARGV[8]) end
  return {0, wait}
end
local entry = queue_up(q, token, tonumber(ARGV[4]), slack)
return {0, wait, entry}`,
};

/**
 * Release a permit (also a waiter's leaving). If the token holds one and a
 * permit is then free for the releaser's `limit`, it goes straight to the
 * oldest live queued waiter (a holder for `grant` ms, or its own shorter
 * ttl, until its first renewal; told as `LUA_QUEUE`'s `announce` says), or,
 * with nobody queued, `released` is published on the channel if race-mode
 * waiters marked the semaphore. Otherwise the token just leaves the queue.
 * KEYS: holders, queue, racers mark, and the token's record (`LUA_WHO`)
 * when it renewed (deleted).
 * ARGV: token, channel, grant (ms),
 * publish command (`PUBLISH`/`SPUBLISH`), the releaser's local marker,
 * limit, slack (ms).
 * Reply: 0 when the token held no permit; 1 when it did and the permit is
 * free; 2 when it was handed on (published); `{1, token, 0, ms, entry}` when
 * handed to a waiter of the releaser's process (not published).
 */
export const SEM_RELEASE: Script = {
  name: "sem_release",
  source: LUA_HOLDERS + `
local h, q = KEYS[1], KEYS[2]
live(h)
if KEYS[4] then redis.call('DEL', KEYS[4]) end
if redis.call('ZREM', h, ARGV[1]) == 0 then
  leave_queue(q, ARGV[1], tonumber(ARGV[7]))
  return 0
end
expire_with_last(h, tonumber(ARGV[7]))
if tonumber(ARGV[6]) > redis.call('ZCARD', h) then
  local head, entry = live_head(q)
  if head then
    leave_queue(q, head)
    local px = grant_ms(head)
    hold(h, head, px, tonumber(ARGV[7]))
    return announce(head, entry, 0, px)
  end
end
if redis.call('DEL', KEYS[3]) == 1 then redis.call(ARGV[4], ARGV[2], 'released') end
return 1`,
};

/**
 * Set a holder's remaining lease if the token still holds a permit, and
 * record when its hold began (`LUA_WHO`'s `who_kept`).
 * KEYS: holders, the token's record. ARGV: token, ttl (ms), slack (ms), how
 * long the holder has held (ms, by its clock).
 * Reply: 1 or 0.
 */
export const SEM_EXTEND: Script = {
  name: "sem_extend",
  source: LUA_HOLDERS + LUA_WHO + `
local lease = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not lease or tonumber(lease) <= now_ms() then return 0 end
renew_lease(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
who_kept(tonumber(ARGV[2]), tonumber(ARGV[4]))
return 1`,
};

/**
 * The lease left to a holder. KEYS: holders. ARGV: token.
 * Reply: ms left (> 0) when the token holds a permit, else -2.
 */
export const SEM_OWNED_TTL: Script = {
  name: "sem_owned_ttl",
  source: LUA_CLOCK + `
local lease = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not lease then return -2 end
local left = tonumber(lease) - now_ms()
if left <= 0 then return -2 end
return left`,
};

/**
 * How many holders are live now (read only). KEYS: holders. Reply: a count.
 */
export const SEM_HOLDERS: Script = {
  name: "sem_holders",
  source: LUA_CLOCK + `
return redis.call('ZCOUNT', KEYS[1], '(' .. int(now_ms()), '+inf')`,
};
