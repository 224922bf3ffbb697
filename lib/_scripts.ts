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

/**
 * Take the lock if it is free.
 * KEYS: lock key, fencing counter. ARGV: token, ttl (ms), fencing ("1"/"0").
 * Reply: `{1, fencingToken or 0}` when taken, `{0, pttl}` when held
 * (pttl is -1 for a key without TTL).
 */
export const ACQUIRE: Script = {
  name: "acquire",
  source: `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if ARGV[3] == '1' then return {1, redis.call('INCR', KEYS[2])} end
  return {1, 0}
end
return {0, redis.call('PTTL', KEYS[1])}`,
};

/**
 * Delete the lock if the token owns it, and announce the release.
 * KEYS: lock key. ARGV: token, channel.
 * Reply: 1 when released, 0 when the token did not own the lock.
 */
export const RELEASE: Script = {
  name: "release",
  source: `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], 'released')
  return 1
end
return 0`,
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
