/**
 * The body of `run()`: runs a callback while a lock is held and releases it
 * in every case.
 *
 * @module
 */

import { LockNotOwnedError } from "./errors.ts";

/** What `runHeld` needs of a lock that has just been acquired. */
export interface HeldLock {
  readonly signal: AbortSignal;
  /** Whether the lock is still held (checks the lease's local deadline). */
  readonly held: boolean;
  release(): Promise<void>;
}

/**
 * Runs `fn` with the lost-lock signal and releases. The callback's error
 * wins over a release error, which becomes its `cause` when it has none; a
 * lease lost while `fn` ran rejects with the `LockLostError` even if `fn`
 * resolved.
 */
export async function runHeld<T>(
  lock: HeldLock,
  fn: (signal: AbortSignal) => Promise<T> | T,
): Promise<T> {
  const signal = lock.signal;
  let result: T;
  try {
    result = await fn(signal);
  } catch (err) {
    await lock.release().catch((releaseError) => {
      const expected = releaseError instanceof LockNotOwnedError;
      if (!expected && err instanceof Error && err.cause === undefined) err.cause = releaseError;
    });
    throw err;
  }
  // Reading `held` compares the clock with the lease's local deadline: a
  // lease that ran out while the process was paused counts as lost now,
  // before its timer has run.
  if (!lock.held && signal.aborted) {
    await lock.release().catch(() => {});
    throw signal.reason;
  }
  await lock.release();
  return result;
}
