/**
 * The read-write lock's scripts. KEYS and ARGV[1..5] are laid out as in
 * `_rw_lua.ts` (writer, readers, fencing counter, queue; token, channel,
 * hand-off ms, publish command, local mark); ARGV[6] is always the holder's
 * mode, "r" or "w", ARGV[7] a ttl where one is needed.
 *
 * The rule: any number of readers, or one writer, in arrival order. A
 * reader enters when no writer holds and no live writer is queued ahead of
 * it; a writer enters when nobody holds and it heads the live queue. A
 * release hands the lock on from the queue's head (`promote`).
 *
 * @module
 */

import { LUA_RW } from "./_rw_lua.ts";
import { LUA_WHO } from "./_lua.ts";
import type { Script } from "./_scripts.ts";

/**
 * One attempt. Takes the lock by the rule above, or finds it already this
 * token's (an earlier attempt's answer was lost, or a hand-off was made to
 * it): its lease is renewed. Otherwise, with join, queues the waiter (or
 * refreshes its liveness) in its mode. An attempt that found a reader's
 * lease over hands the lock on (`promote`, published only), so a writer
 * behind a crashed reader need not wait for its own next attempt.
 * ARGV[7]: ttl (ms), ARGV[8]: fencing ("1"/"0"), ARGV[9]: join ("1"/"0").
 * Reply: `{1, fence}` when held (a writer: a new fencing token; a reader:
 * the counter's value, the last write's token; 0 without fencing);
 * `{0, wait}` when not, where wait is the writer's PTTL, else the earliest
 * reader's lease left, else -2 (free, but promised to an earlier waiter),
 * with the queue entry id as a third element when queued.
 */
export const RW_ACQUIRE: Script = {
  name: "rw_acquire",
  source: LUA_RW + `
local token, q = ARGV[1], KEYS[4]
local writing, ttl, fenced = ARGV[6] == 'w', tonumber(ARGV[7]), ARGV[8] == '1'
local readers, gone = purge_readers()
local holder = redis.call('GET', KEYS[1])
if writing then
  if holder == token then
    -- Its token was taken when the lock became its own: the counter's value
    -- (a new one if the counter was lost meanwhile: evicted, deleted).
    redis.call('PEXPIRE', KEYS[1], int(ttl))
    leave_queue(q, token)
    if not fenced then return {1, 0} end
    local fence = redis.call('GET', KEYS[3])
    if fence then return {1, tonumber(fence)} end
    return {1, next_fence(KEYS[3])}
  end
  if not holder and readers == 0 then
    local head = live_head(q)
    if not head or head == token then
      redis.call('SET', KEYS[1], token, 'PX', int(ttl))
      if head then leave_queue(q, token) end
      if fenced then return {1, next_fence(KEYS[3])} end
      return {1, 0}
    end
  end
else
  local mine = redis.call('ZSCORE', KEYS[2], token)
  local enter = mine ~= false
  if not enter and not holder then
    enter = true
    if live_head(q) then
      local w = first_writer(q)
      local e = redis.call('ZSCORE', q, token)
      if w and (not e or w < tonumber(e)) then enter = false end
    end
  end
  if enter then
    add_reader(token, ttl)
    leave_queue(q, token)
    if fenced then return {1, tonumber(redis.call('GET', KEYS[3]) or '0')} end
    return {1, 0}
  end
end
if gone > 0 then promote({}) end
local wait = redis.call('PTTL', KEYS[1])
if wait == -2 then
  local first = redis.call('ZRANGE', KEYS[2], '0', '0', 'WITHSCORES')
  if first[2] then wait = math.max(1, tonumber(first[2]) - now_ms()) end
end
if ARGV[9] ~= '1' then return {0, wait} end
local entry = queue_up(q, token, tonumber(ARGV[3]), SLACK, writing and 1 or 0)
return {0, wait, entry}`,
};

/**
 * Release (also a waiter's leaving). If the token holds (as the writer, or
 * as a reader within its lease), it lets go and the lock is handed on from
 * the queue's head (`promote`). A leaving waiter also hands on: a queued
 * writer that gives up may unblock readers behind it (published only).
 * Reply: 0 when the token did not hold; 1 when it did and nothing was handed
 * on; 2 when something was (published); `{1, token, fence, ms, entry}` when
 * a hand-off went to a waiter of the releaser's process (not published).
 */
export const RW_RELEASE: Script = {
  name: "rw_release",
  source: LUA_RW + `
local token = ARGV[1]
local owned = false
if KEYS[5] then redis.call('DEL', KEYS[5]) end
if redis.call('GET', KEYS[1]) == token then
  redis.call('DEL', KEYS[1])
  owned = true
else
  local deadline = redis.call('ZSCORE', KEYS[2], token)
  if deadline then
    redis.call('ZREM', KEYS[2], token)
    owned = tonumber(deadline) > now_ms()
    expire_with_last(KEYS[2], SLACK)
  end
end
leave_queue(KEYS[4], token, (not owned) and SLACK or nil)
local state = {may_local = owned}
promote(state)
if not owned then return 0 end
if state.reply then return state.reply end
if state.handed then return 2 end
return 1`,
};

/**
 * Sets the token's lease to ARGV[7] ms if it holds, and records when its
 * hold began (ARGV[8]: how long it has held, ms; `who_kept`).
 * Reply: 1 when it did, else 0.
 */
export const RW_EXTEND: Script = {
  name: "rw_extend",
  source: LUA_RW + LUA_WHO + `
if ARGV[6] == 'w' then
  if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
  who_kept(tonumber(ARGV[7]), tonumber(ARGV[8]))
  return redis.call('PEXPIRE', KEYS[1], ARGV[7])
end
local deadline = redis.call('ZSCORE', KEYS[2], ARGV[1])
if deadline and tonumber(deadline) > now_ms() then
  renew_lease(KEYS[2], ARGV[1], tonumber(ARGV[7]), SLACK)
  who_kept(tonumber(ARGV[7]), tonumber(ARGV[8]))
  return 1
end
return 0`,
};

/**
 * The lease left to the token (ms; -1 for a writer key without TTL) when it
 * holds, else -2.
 */
export const RW_OWNED_TTL: Script = {
  name: "rw_owned_ttl",
  source: LUA_RW + `
if ARGV[6] == 'w' then
  if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PTTL', KEYS[1]) end
  return -2
end
local deadline = redis.call('ZSCORE', KEYS[2], ARGV[1])
if deadline and tonumber(deadline) > now_ms() then return tonumber(deadline) - now_ms() end
return -2`,
};

/**
 * Whether a holder of mode ARGV[6] could not enter now: a writer holds, or
 * (for a writer) a live reader holds or a live waiter is queued, or (for a
 * reader) a live writer is queued. Reply: 1 or 0.
 */
export const RW_LOCKED: Script = {
  name: "rw_locked",
  source: LUA_RW + `
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
if ARGV[6] == 'w' then
  if redis.call('ZCOUNT', KEYS[2], '(' .. int(now_ms()), '+inf') > 0 then return 1 end
  if live_head(KEYS[4]) then return 1 end
  return 0
end
if live_head(KEYS[4]) and first_writer(KEYS[4]) then return 1 end
return 0`,
};
