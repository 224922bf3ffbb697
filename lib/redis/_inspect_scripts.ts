/**
 * The read-only scripts behind `inspect()`: one atomic read of who holds a
 * primitive and who waits for it, with the start of each hold where a
 * renewal recorded it (`LUA_WHO`).
 * Each writes nothing (expired queue entries are skipped, not dropped).
 *
 * All three reply alike: `{now, fence, n, holders..., waiters...}`: Redis
 * time (ms), the fencing counter ("" when none), the number of holders,
 * then 4 fields per holder (token, lease left in ms, the start of its hold
 * in Redis ms as its first renewal recorded it or "", mode "r"/"w"/"") and
 * 4 per live queued waiter, oldest first (token, ms waited, "", mode). Who
 * each is, is in its token (`_token.ts`).
 *
 * @module
 */

import { LUA_CLOCK } from "./_lua.ts";
import type { Script } from "./_scripts.ts";

/**
 * KEYS: ..., the records' prefix (last). ARGV: max, rw ("1": entry
 * ids carry the waiter's mode, as the read-write lock's queue does).
 */
const LUA_INSPECT = LUA_CLOCK + `
local MAX = tonumber(ARGV[1])
local WHO = KEYS[#KEYS]
local out = {0, ''}
local holders = {}
local function held(token, left, mode)
  local since = ''
  if string.find(token, '~', 1, true) then since = redis.call('GET', WHO .. token) or '' end
  holders[#holders + 1] = {token, left, since, mode}
end
local function now_us()
  local t = clock()
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function string_holder(key, mode)
  if redis.call('TYPE', key)['ok'] == 'string' then
    held(redis.call('GET', key), redis.call('PTTL', key), mode)
  end
end
local function read_fence(key)
  if redis.call('TYPE', key)['ok'] == 'string' then out[2] = redis.call('GET', key) end
end
local function sorted_holders(key, mode)
  if redis.call('TYPE', key)['ok'] ~= 'zset' then return end
  local now = now_ms()
  local list = redis.call('ZRANGEBYSCORE', key, '(' .. string.format('%.0f', now), '+inf',
    'WITHSCORES', 'LIMIT', 0, MAX)
  for i = 1, #list, 2 do held(list[i], tonumber(list[i + 1]) - now, mode) end
end
local function finish(q)
  out[1] = now_ms()
  out[3] = #holders
  for _, h in ipairs(holders) do
    for _, v in ipairs(h) do out[#out + 1] = v end
  end
  if MAX == 0 or redis.call('TYPE', q)['ok'] ~= 'zset' then return out end
  local now, us, listed, at = now_ms(), now_us(), 0, 0
  while listed < MAX do
    local page = redis.call('ZRANGEBYSCORE', q, '(0', '+inf', 'WITHSCORES', 'LIMIT', at, 100)
    for i = 1, #page, 2 do
      local token, entry = page[i], tonumber(page[i + 1])
      local deadline = redis.call('ZSCORE', q, '!' .. token)
      if listed < MAX and deadline and -tonumber(deadline) > now then
        local mode, arrival = '', entry
        if ARGV[2] == '1' then
          mode = entry % 2 == 1 and 'w' or 'r'
          arrival = math.floor(entry / 2)
        end
        out[#out + 1] = token
        out[#out + 1] = math.max(0, math.floor((us - arrival) / 1000))
        out[#out + 1] = ''
        out[#out + 1] = mode
        listed = listed + 1
      end
    end
    if #page < 200 then break end
    at = at + 100
  end
  return out
end
`;

/** A lock. KEYS: lock key, fencing counter, queue, records' prefix. */
export const LOCK_INSPECT: Script = {
  name: "lock_inspect",
  source: LUA_INSPECT + `
string_holder(KEYS[1], '')
read_fence(KEYS[2])
return finish(KEYS[3])`,
};

/** A semaphore. KEYS: holders, queue, records' prefix. */
export const SEM_INSPECT: Script = {
  name: "sem_inspect",
  source: LUA_INSPECT + `
sorted_holders(KEYS[1], '')
return finish(KEYS[2])`,
};

/** A read-write lock. KEYS: writer, readers, fencing counter, queue, records' prefix. */
export const RW_INSPECT: Script = {
  name: "rw_inspect",
  source: LUA_INSPECT + `
string_holder(KEYS[1], 'w')
sorted_holders(KEYS[2], 'r')
read_fence(KEYS[3])
return finish(KEYS[4])`,
};
