/**
 * The ideal hand-off floor (issue 16): about the least a fair lock with
 * hand-off can cost on Redis, measured as a reference row next to the locks.
 * It is benchmark code, not a lock to use (see "What it leaves out").
 *
 * Keys, all under one hash tag (one cluster slot): `{name}` holds the
 * holder's token with a lease (`PX`), `{name}:q` is the FIFO queue of
 * waiting tokens, `{name}:w:<token>` is one waiter's wake list.
 *
 * - acquire: one `EVALSHA` (`ACQUIRE`): `SET NX PX`; when taken, `RPUSH`
 *   the token to the queue and `PEXPIRE` the queue. A queued waiter then
 *   blocks in `BLPOP` on its wake list, on its own second connection.
 * - release: one `EVALSHA` (`RELEASE`): compare the token (`GET`), `LPOP`
 *   the next token; if there is one, `SET` the key to it with a fresh lease
 *   and `LPUSH` to its wake list (the hand-off: one round trip and one push);
 *   else `DEL`.
 *
 * Per acquisition, uncontended: 2 requests, 6 Redis operations (the
 * `EVALSHA`s counted); contended: 3 requests (acquire, `BLPOP`, release),
 * 10 operations.
 *
 * The semaphore floor (`semaphoreFloor`, issue 17) is the same with `{name}`
 * a set of holders: `ACQUIRE` adds the token while the set has fewer than
 * `limit` members, `RELEASE` removes it and moves the next queued token in.
 *
 * What it leaves out that a real lock needs: no renewal, no signal or
 * deadline but a 10 s `BLPOP` bound (then `LEAVE` takes the token out of
 * the queue, or finds it was granted meanwhile), wake lists of a crashed
 * waiter never expire, a newcomer takes a lock whose lease ran out ahead of
 * the queue, and one blocked connection per waiter.
 *
 * @module
 */

import { type ClientKind, type RawConnection, rawConnection } from "./clients.ts";
import type { Contender, LockSpec } from "./locks.ts";

/** KEYS[1] lock, KEYS[2] queue; ARGV[1] token, ARGV[2] lease ms. 1 = acquired, 0 = queued. */
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 0`;

/**
 * KEYS[1] lock, KEYS[2] queue; ARGV[1] token, ARGV[2] lease ms, ARGV[3]
 * wake-list prefix. 0 = not the holder, 1 = released, 2 = handed off.
 */
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local next = redis.call('LPOP', KEYS[2])
if next then
  redis.call('SET', KEYS[1], next, 'PX', ARGV[2])
  redis.call('LPUSH', ARGV[3] .. next, next)
  return 2
end
redis.call('DEL', KEYS[1])
return 1`;

/** KEYS[1] queue, KEYS[2] own wake list; ARGV[1] token. 1 = was granted meanwhile, 0 = left. */
const LEAVE = `
if redis.call('LREM', KEYS[1], 0, ARGV[1]) > 0 then return 0 end
if redis.call('LPOP', KEYS[2]) then return 1 end
return 0`;

/**
 * The semaphore floor's acquire: KEYS[1] holders (a set), KEYS[2] queue;
 * ARGV[1] token, ARGV[2] lease ms, ARGV[3] limit. 1 = acquired, 0 = queued.
 */
const SEM_ACQUIRE = `
if redis.call('SCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('SADD', KEYS[1], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 0`;

/** The semaphore floor's release: as `RELEASE`, the permit moving to the next token. */
const SEM_RELEASE = `
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local next = redis.call('LPOP', KEYS[2])
if next then
  redis.call('SADD', KEYS[1], next)
  redis.call('LPUSH', ARGV[3] .. next, next)
  return 2
end
return 1`;

/** The floor's acquire and release scripts (also measured alone by `bench/script_cost.ts`). */
export const FLOOR_SCRIPTS: { readonly acquire: string; readonly release: string } = {
  acquire: ACQUIRE,
  release: RELEASE,
};

const LEASE_MS = "30000";
const WAIT_SECONDS = "10";

async function load(conn: RawConnection, script: string): Promise<string> {
  return String(await conn.call(["SCRIPT", "LOAD", script]));
}

/**
 * One floor contender on `name`: a command connection and a connection to
 * block on; with a `limit`, one of the semaphore floor's.
 */
async function openFloor(
  kind: ClientKind,
  url: string,
  name: string,
  limit?: number,
): Promise<Contender> {
  const [conn, blocking] = await Promise.all([rawConnection(kind, url), rawConnection(kind, url)]);
  const scripts = limit === undefined
    ? [ACQUIRE, RELEASE, LEAVE]
    : [SEM_ACQUIRE, SEM_RELEASE, LEAVE];
  const [acquireSha, releaseSha, leaveSha] = await Promise.all(scripts.map((s) => load(conn, s)));
  const limitArg = limit === undefined ? [] : [String(limit)];
  const key = `{${name}}`;
  const queue = `${key}:q`;
  const wakePrefix = `${key}:w:`;
  let token = "";
  return {
    async acquire() {
      token = crypto.randomUUID();
      const got = await conn.call([
        "EVALSHA",
        acquireSha,
        "2",
        key,
        queue,
        token,
        LEASE_MS,
        ...limitArg,
      ]);
      if (Number(got) === 1) return true;
      const woken = await blocking.call(["BLPOP", wakePrefix + token, WAIT_SECONDS]);
      if (Array.isArray(woken) && woken[1] === token) return true;
      const granted = await conn.call(["EVALSHA", leaveSha, "2", queue, wakePrefix + token, token]);
      return Number(granted) === 1;
    },
    async release() {
      const done = await conn.call(
        ["EVALSHA", releaseSha, "2", key, queue, token, LEASE_MS, wakePrefix],
      );
      if (Number(done) === 0) throw new Error(`floor: ${token} did not hold ${key}`);
    },
    async close() {
      await Promise.allSettled([conn.close(), blocking.close()]);
    },
  };
}

/** The floor as a lock of the comparison, on `kind`. */
export function handoffFloor(id: string, kind: ClientKind): LockSpec {
  return {
    id,
    label: "hand-off floor",
    client: kind,
    settings: "Lua FIFO queue + BLPOP per waiter, lease 30000 (bench/compare/floor.ts)",
    open: (url, name) => openFloor(kind, url, name),
  };
}

/** The semaphore floor (at most `limit` holders) as a semaphore of the comparison, on `kind`. */
export function semaphoreFloor(id: string, kind: ClientKind, limit: number): LockSpec {
  return {
    id,
    label: "hand-off floor",
    client: kind,
    settings:
      `Lua set of holders + FIFO queue + BLPOP per waiter, limit ${limit} (bench/compare/floor.ts)`,
    open: (url, name) => openFloor(kind, url, name, limit),
  };
}
