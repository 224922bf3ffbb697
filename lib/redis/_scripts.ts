/**
 * Every Lua script the library runs, in one place. Each is atomic on the
 * server; ownership is always a compare on the owner's token. Durations are
 * milliseconds, measured by Redis (`PX`, `PEXPIRE`, `PTTL`), never by a
 * client's clock.
 *
 * @module
 */

/** A named Lua script; its SHA-1 is computed once, when first run. */
export interface Script {
  readonly name: string;
  readonly source: string;
}

// Shared by the acquiring and releasing scripts. One clock read per run at
// most (`clock()` is cached); fencing tokens keep growing even when Redis
// lost the counter: the next token is the larger of counter + 1 and Redis
// TIME in microseconds (KEYS[2] is the fencing counter).
const CLOCK = `
local clock_t
local function clock()
  if not clock_t then clock_t = redis.call('TIME') end
  return clock_t
end
local function now_ms()
  local t = clock()
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function next_fence()
  local t = clock()
  local n = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local c = tonumber(redis.call('GET', KEYS[2]) or '0') + 1
  if c > n then n = c end
  redis.call('SET', KEYS[2], string.format('%.0f', n))
  return n
end
`;

/**
 * Take the lock if it is free. A key that already holds this token was taken
 * by an earlier attempt of the same acquisition whose answer was lost (the
 * connection dropped): it counts as taken, with its lease renewed and a new
 * fencing token (the one issued then was never seen, and the counter may
 * have been lost since).
 * KEYS: lock key, fencing counter. ARGV: token, ttl (ms), fencing ("1"/"0").
 * Reply: `{1, fencingToken or 0}` when taken, `{0, pttl}` when held
 * (pttl is -1 for a key without TTL).
 */
export const ACQUIRE: Script = {
  name: "acquire",
  source: CLOCK + `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if ARGV[3] == '1' then return {1, next_fence()} end
  return {1, 0}
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  if ARGV[3] == '1' then return {1, next_fence()} end
  return {1, 0}
end
return {0, redis.call('PTTL', KEYS[1])}`,
};

/**
 * How long fair mode's queue and liveness keys outlive the latest liveness
 * deadline written to them, in ms: a name nobody uses any more leaves no
 * key behind once its lease and its waiters' deadlines are over.
 */
export const QUEUE_SLACK_MS = 500;

// Fair mode's helpers, for scripts whose KEYS[3] is the queue (waiter tokens
// scored by arrival: the score is the queue entry's id) and KEYS[4] the
// liveness deadlines (Redis ms). The oldest live queued waiter and its entry,
// dropping dead ones only when there is a queue.
const QUEUE_HELPERS = CLOCK + `
local function live_head()
  local head = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  if not head[1] then return nil end
  local dead = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now_ms())
  if #dead == 0 then return head[1], head[2] end
  for _, gone in ipairs(dead) do
    redis.call('ZREM', KEYS[3], gone)
    redis.call('ZREM', KEYS[4], gone)
  end
  head = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  return head[1], head[2]
end
local function keep_for(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
`;

/**
 * Fair mode: take the lock if it is free and nobody is queued (as cheaply as
 * `ACQUIRE`) or this waiter is first in the queue, or take up a hand-off
 * already made to this token; otherwise join (or stay in) the queue and
 * refresh this waiter's liveness deadline. Both queue keys then expire
 * {@linkcode QUEUE_SLACK_MS} after the latest liveness deadline.
 * KEYS: lock key, fencing counter, queue, alive.
 * ARGV: token, ttl (ms), fencing ("1"/"0"), liveness (ms), join ("1"/"0"),
 * slack (ms).
 * Reply: `{1, fencingToken or 0}` when held; `{0, pttl}` when not (pttl is
 * -2 when the lock is free but promised to an earlier waiter), with a third
 * element when queued: the queue entry's id (as a string), which a hand-off
 * to this waiter names.
 */
export const FAIR_ACQUIRE: Script = {
  name: "fair_acquire",
  source: QUEUE_HELPERS + `
if redis.call('EXISTS', KEYS[3]) == 0 and redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if ARGV[3] == '1' then return {1, next_fence()} end
  return {1, 0}
end
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  if ARGV[3] == '1' then return {1, next_fence()} end
  return {1, 0}
end
if not owner then
  local head = live_head()
  if not head or head == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    if head then
      redis.call('ZREM', KEYS[3], ARGV[1])
      redis.call('ZREM', KEYS[4], ARGV[1])
    end
    if ARGV[3] == '1' then return {1, next_fence()} end
    return {1, 0}
  end
end
if ARGV[5] ~= '1' then return {0, redis.call('PTTL', KEYS[1])} end
local entry = redis.call('ZSCORE', KEYS[3], ARGV[1])
if not entry then
  local t = clock()
  entry = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('ZADD', KEYS[3], entry, ARGV[1])
end
local liveness = tonumber(ARGV[4])
redis.call('ZADD', KEYS[4], now_ms() + liveness, ARGV[1])
keep_for(KEYS[3], liveness + tonumber(ARGV[6]))
keep_for(KEYS[4], liveness + tonumber(ARGV[6]))
return {0, redis.call('PTTL', KEYS[1]), entry}`,
};

/**
 * Release (also a fair waiter's leaving). If the token owns the lock, the
 * lock goes straight to the oldest live queued waiter (key set to its token
 * for `grant` ms, or for the waiter's own ttl when its token carries a
 * shorter one as `.<ttl>`; a fencing token taken when its token ends in
 * "#f"; `grant <token> <fence> <ms> <entry>` published, where `entry` is the
 * id of the queue entry served), or, with nobody queued, is deleted and
 * `released` is published. Otherwise the token just leaves the queue.
 * KEYS: lock key, fencing counter, queue, alive. ARGV: token, channel, grant
 * (ms), publish command (`PUBLISH`, or `SPUBLISH` for sharded Pub/Sub), and
 * optionally the releaser's local marker: a waiter whose token contains it
 * waits in the releaser's own process, so nothing is published for it and
 * the releaser delivers the hand-off itself.
 * Reply: 0 when the token did not own the lock; 1 when it did and the lock
 * is now free; 2 when it was handed on (published);
 * `{1, token, fence, ms, entry}` when it was handed to a local waiter (not
 * published).
 */
export const RELEASE: Script = {
  name: "release",
  source: QUEUE_HELPERS + `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('ZREM', KEYS[4], ARGV[1])
  return 0
end
local head, entry = live_head()
if head then
  redis.call('ZREM', KEYS[3], head)
  redis.call('ZREM', KEYS[4], head)
  local px = tonumber(ARGV[3])
  local own = tonumber(string.match(head, '%.(%d+)'))
  if own and own < px then px = own end
  redis.call('SET', KEYS[1], head, 'PX', px)
  local fence = 0
  if string.sub(head, -2) == '#f' then fence = next_fence() end
  if ARGV[5] and string.find(head, ARGV[5], 1, true) then
    return {1, head, fence, px, entry}
  end
  local message = string.format('grant %s %.0f %d %s', head, fence, px, entry)
  redis.call(ARGV[4], ARGV[2], message)
  return 2
end
redis.call('DEL', KEYS[1])
redis.call(ARGV[4], ARGV[2], 'released')
return 1`,
};

/**
 * Set the remaining lease if the token owns the lock.
 * KEYS: lock key. ARGV: token, ttl (ms). Reply: 1 when extended, else 0.
 */
export const EXTEND: Script = {
  name: "extend",
  source: `
if redis.call('GET', KEYS[1]) == ARGV[1] then
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
