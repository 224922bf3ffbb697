/**
 * Lua helpers that every primitive's scripts share (prepended to a script's
 * source): the Redis clock and fencing tokens, and fair mode's queue and
 * hand-off. Scripts themselves live in `_scripts.ts` (the lock's) and in one
 * file per other primitive.
 *
 * @module
 */

/**
 * The clock and fencing tokens. One clock read per run at
 * most (`clock()` is cached); fencing tokens keep growing even when Redis
 * lost the counter: the next token is the larger of counter + 1 and Redis
 * TIME in microseconds (`key` is the fencing counter).
 */
export const LUA_CLOCK: string = `
local clock_t
local function clock()
  if not clock_t then clock_t = redis.call('TIME') end
  return clock_t
end
local function now_ms()
  local t = clock()
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- Numbers go to Redis as strings made here with '%d' (an integer's fast
-- path): '%.0f', and Redis's own conversion of a Lua number argument
-- ('%.17g'), take the slow floating-point path of printf.
local function int(n)
  return string.format('%d', n)
end
local function next_fence(key)
  local t = clock()
  local n = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local c = tonumber(redis.call('GET', key) or '0') + 1
  if c > n then n = c end
  redis.call('SET', key, int(n))
  return n
end
`;

/**
 * When a holder started holding. Who holds and who waits costs Redis nothing:
 * it is in the token (`_token.ts`), which the key, the holders' sets and the
 * queue hold anyway. What the token cannot carry is when a hold began after
 * a wait, so a holder's first renewal (never on the hot path: short holds
 * never renew) records it: `<base>:who:<token>` holds the start in Redis ms
 * and expires with the lease. A script that renews passes that record as
 * its last KEY and the token as ARGV[1]; a release passes it only when the
 * holder renewed, and deletes it.
 * - `who_kept(ms, held)`: a renewal for `ms` of a holder that has held for
 *   `held` ms (by its own clock): the record is made (start: now - held)
 *   or lives `ms` longer. Nothing for a token without an identity.
 *
 * It comes after `LUA_CLOCK` (or a helper set that includes it).
 */
export const LUA_WHO: string = `
local function who_kept(ms, held)
  if not string.find(ARGV[1], '~', 1, true) then return end
  local k = KEYS[#KEYS]
  if redis.call('PEXPIRE', k, int(ms)) == 0 then
    redis.call('SET', k, int(now_ms() - held), 'PX', int(ms))
  end
end
`;

/**
 * Fair mode's Lua helpers, shared by every primitive's scripts (the lock's
 * here, the others' in their own files). A queue is one sorted set holding
 * each waiter's token scored by its entry id (arrival, Redis µs, > 0) and
 * `!<token>` scored by minus its liveness deadline (Redis ms, < 0).
 * - `live_head(q)`: the oldest live waiter and its entry, dropping dead ones
 *   (one read when there are none);
 * - `leave_queue(q, token, slack)`: with `slack` (a waiter giving up, off
 *   the hand-off path), the queue's expiry is re-aimed at its latest
 *   remaining liveness deadline + `slack`: the leaver's deadline may have
 *   been the latest (callers of one name may pass different
 *   `handoffTimeout`s), and the queue must not outlive its last waiter by it;
 * - `queue_up(q, token, liveness, slack, tag)`: join or refresh, returns the
 *   entry (with `tag`, 0 or 1, the entry is 2 × µs + tag: a primitive's
 *   waiters of two kinds tell themselves apart by its parity);
 * - `expire_with_last(key, slack)`: a sorted set scored by deadlines (Redis
 *   ms) expires `slack` after its latest one (a release re-aims it, so it
 *   does not outlive its live members by a released member's lease);
 * - `renew_lease(key, member, ms, slack)`: in such a set, `member`'s lease
 *   ends `ms` from now, and the key's expiry is re-aimed (a renewal that
 *   shortens a lease must not keep the key longer);
 * - `grant_ms(token)`: how long a hand-off to `token` holds: ARGV[3], or the
 *   waiter's own shorter ttl (`.<ttl>` in its token);
 * - `announce(token, entry, fence, px, publish_only)`: tells the new holder:
 *   the reply `{1, token, fence, px, entry}` when its token holds the
 *   releaser's local mark (ARGV[5]) and not `publish_only`, else
 *   `grant <token> <fence> <ms> <entry>` published with ARGV[4] on its
 *   process's channel `ARGV[2]:<mark>`, and 2.
 *
 * They include `LUA_CLOCK`.
 */
export const LUA_QUEUE: string = LUA_CLOCK + `
local function first_entry(q)
  local head = redis.call('ZRANGEBYSCORE', q, '(0', '+inf', 'WITHSCORES', 'LIMIT', '0', '1')
  return head[1], head[2]
end
local function live_head(q)
  -- One read in the usual case: from -now up, a dead waiter's deadline comes
  -- first if there is one, else the oldest entry.
  local now = int(-now_ms())
  local first = redis.call('ZRANGEBYSCORE', q, now, '+inf', 'WITHSCORES', 'LIMIT', '0', '1')
  if not first[1] or string.sub(first[1], 1, 1) ~= '!' then return first[1], first[2] end
  for _, gone in ipairs(redis.call('ZRANGEBYSCORE', q, now, '(0')) do
    redis.call('ZREM', q, gone, string.sub(gone, 2))
  end
  return first_entry(q)
end
local function leave_queue(q, token, slack)
  redis.call('ZREM', q, token, '!' .. token)
  if not slack then return end
  local latest = redis.call('ZRANGE', q, '0', '0', 'WITHSCORES')
  if latest[2] and tonumber(latest[2]) < 0 then
    redis.call('PEXPIREAT', q, int(slack - tonumber(latest[2])))
  end
end
local function queue_up(q, token, liveness, slack, tag)
  local deadline = int(-(now_ms() + liveness))
  local t = clock()
  local entry
  if tag then
    entry = int((tonumber(t[1]) * 1000000 + tonumber(t[2])) * 2 + tag)
  else
    entry = t[1] .. string.format('%06d', tonumber(t[2]))
  end
  if redis.call('ZADD', q, 'NX', entry, token, deadline, '!' .. token) < 2 then
    -- Already queued: its entry stays, its deadline moves.
    entry = redis.call('ZSCORE', q, token) or entry
    redis.call('ZADD', q, entry, token, deadline, '!' .. token)
  end
  local keep = liveness + slack
  if redis.call('PTTL', q) < keep then redis.call('PEXPIRE', q, int(keep)) end
  return entry
end
local function expire_with_last(key, slack)
  local last = redis.call('ZRANGE', key, '-1', '-1', 'WITHSCORES')
  if last[2] then redis.call('PEXPIREAT', key, int(tonumber(last[2]) + slack)) end
end
local function renew_lease(key, member, ms, slack)
  redis.call('ZADD', key, int(now_ms() + ms), member)
  expire_with_last(key, slack)
end
local function grant_ms(token)
  local px = tonumber(ARGV[3])
  local own = tonumber(string.match(token, '%.(%d+)'))
  if own and own < px then return own end
  return px
end
local function announce(token, entry, fence, px, publish_only)
  if not publish_only and ARGV[5] and string.find(token, ARGV[5], 1, true) then
    return {1, token, fence, px, entry}
  end
  local mark = string.match(token, '@(%x+)%.')
  local channel = ARGV[2]
  if mark then channel = channel .. ':' .. mark end
  redis.call(ARGV[4], channel, string.format('grant %s %d %d %s', token, fence, px, entry))
  return 2
end
`;
