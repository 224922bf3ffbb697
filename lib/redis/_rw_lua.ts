/**
 * The read-write lock's Lua helpers, prepended (after `LUA_QUEUE`) to its
 * scripts. Every script of it has the same layout:
 *
 * KEYS: writer, readers, fencing counter, queue, and the token's record
 * (`LUA_WHO`) for a renewal, or for a release when the holder renewed.
 * ARGV: token, channel, hand-off ms, publish command (`PUBLISH` or
 * `SPUBLISH`), the releaser's local mark ("-" for none), then the script's
 * own arguments. ARGV[2..5] are what `grant_ms` and `announce` read.
 *
 * - A waiter's mode is the parity of its queue entry id (µs of arrival × 2,
 *   + 1 for a writer): `queue_up`'s tag writes it, `is_writer` reads it, so the
 *   queue stays the lock's one sorted set and dead waiters leave it whole.
 * - `purge_readers()` drops readers past their lease deadline and returns
 *   how many live ones are left and how many it dropped; `keep_readers(ms)` makes the readers' set
 *   outlive a deadline `ms` from now (plus the queue's slack).
 * - `first_writer(q)` is the entry of the oldest queued writer (nil: none),
 *   read a page at a time (never the whole set in one reply).
 * - `promote(state)` hands the lock on from the queue's head when no writer
 *   holds: every reader up to the first writer is admitted (each announced),
 *   then that writer if no reader holds. At most one hand-off to a waiter of
 *   the releaser's own process goes into `state.reply` (when
 *   `state.may_local`); every other is published.
 *
 * @module
 */

import { LUA_QUEUE } from "./_lua.ts";

/** The slack in ms the readers' set and queue outlive their latest deadline by. */
export const RW_SLACK_MS = 500;

/** See the module doc. */
export const LUA_RW: string = LUA_QUEUE + `
local SLACK = ${RW_SLACK_MS}
local function is_writer(entry)
  return tonumber(entry) % 2 == 1
end
local function purge_readers()
  local gone = redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', int(now_ms()))
  return redis.call('ZCARD', KEYS[2]), gone
end
local function keep_readers(ms)
  if redis.call('PTTL', KEYS[2]) < ms + SLACK then redis.call('PEXPIRE', KEYS[2], int(ms + SLACK)) end
end
local function add_reader(token, ms)
  redis.call('ZADD', KEYS[2], int(now_ms() + ms), token)
  keep_readers(ms)
end
local function reader_fence(token)
  if string.sub(token, -2) ~= '#f' then return 0 end
  return tonumber(redis.call('GET', KEYS[3]) or '0')
end
local function first_writer(q)
  local at = 0
  while true do
    local page = redis.call('ZRANGEBYSCORE', q, '(0', '+inf', 'WITHSCORES', 'LIMIT', int(at), '100')
    for i = 2, #page, 2 do
      if is_writer(page[i]) then return tonumber(page[i]) end
    end
    if #page < 200 then return nil end
    at = at + 100
  end
end
local function hand(state, token, entry, fence, px)
  leave_queue(KEYS[4], token)
  -- At most one local hand-off fits in the reply; the others are published.
  local r = announce(token, entry, fence, px, not state.may_local or state.reply ~= nil)
  if type(r) == 'table' then state.reply = r end
  state.handed = true
end
local function promote(state)
  if redis.call('EXISTS', KEYS[1]) == 1 then return end
  local readers = purge_readers()
  local head, entry = live_head(KEYS[4])
  while head do
    local px = grant_ms(head)
    if is_writer(entry) then
      if readers > 0 then return end
      redis.call('SET', KEYS[1], head, 'PX', int(px))
      local fence = 0
      if string.sub(head, -2) == '#f' then fence = next_fence(KEYS[3]) end
      hand(state, head, entry, fence, px)
      return
    end
    add_reader(head, px)
    readers = readers + 1
    hand(state, head, entry, reader_fence(head), px)
    head, entry = first_entry(KEYS[4])
  end
end
`;
