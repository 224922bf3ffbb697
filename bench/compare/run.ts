/**
 * One contention run in this process: N contenders loop acquire → hold →
 * release on one lock name during a fixed window, and every acquisition is
 * recorded with timestamps for `stats.ts` to summarise.
 *
 * Timestamps come from {@linkcode clock}, `performance.timeOrigin +
 * performance.now()`: monotonic within a process, and comparable between
 * processes on one machine (for the multi-process runs).
 *
 * @module
 */

import process from "node:process";
import type { Contender, LockSpec } from "./locks.ts";

/** Milliseconds since the epoch, sub-millisecond, monotonic in a process. */
export const clock = (): number => performance.timeOrigin + performance.now();

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One acquisition: when acquire() was called, resolved, and release() was called. */
export interface Acquisition {
  readonly contender: number;
  readonly start: number;
  readonly enter: number;
  readonly exit: number;
}

/** What one process saw during one window. */
export interface RawRun {
  readonly windowStart: number;
  readonly windowEnd: number;
  /** Every acquisition, also those after the window (they are checked for exclusion too). */
  readonly acquisitions: Acquisition[];
  /** Acquisitions within the window, per contender. */
  readonly perContender: number[];
  /** acquire() calls that gave up (the lock's own timeout) within the window. */
  failed: number;
  /** Unexpected rejections of acquire() or release(). */
  errors: number;
  errorSample?: string;
  /** Times the shared in-process `inside` counter exceeded the limit (1 for a lock). */
  overlaps: number;
  /** For each acquire() still pending at the end of the window: how long it had waited. */
  readonly pendingWaits: number[];
  /** This process's CPU time (user + system, all threads) during the window, in µs. */
  clientCpuMicros: number;
}

/** Opens `n` contenders on `name`, each its own connection and lock instance. */
export async function openContenders(
  spec: LockSpec,
  url: string,
  name: string,
  n: number,
): Promise<Contender[]> {
  return await Promise.all(Array.from({ length: n }, () => spec.open(url, name)));
}

/** Closes every contender; errors are ignored. */
export async function closeContenders(contenders: Contender[]): Promise<void> {
  await Promise.allSettled(contenders.map((c) => c.close()));
}

/**
 * Every contender acquires and releases once, all at the same time, so that
 * scripts are loaded and Pub/Sub connections are open before the window.
 */
export async function warmUp(contenders: Contender[]): Promise<void> {
  const signal = AbortSignal.timeout(5_000);
  await Promise.allSettled(contenders.map(async (c) => {
    if (await c.acquire(signal)) await c.release();
  }));
}

/**
 * Runs the window [startAt, startAt + seconds): contenders start at
 * `startAt`; at the end waits are aborted (where the lock takes a signal)
 * or finish by themselves, and a lock taken after the end is released.
 * Resolves once every contender has stopped. `limit`: how many may hold at
 * once (a semaphore's); more counts as an overlap.
 */
export async function runWindow(
  contenders: Contender[],
  holdMs: number,
  startAt: number,
  seconds: number,
  limit = 1,
): Promise<RawRun> {
  const windowEnd = startAt + seconds * 1000;
  const run: RawRun = {
    windowStart: startAt,
    windowEnd,
    acquisitions: [],
    perContender: contenders.map(() => 0),
    failed: 0,
    errors: 0,
    overlaps: 0,
    pendingWaits: [],
    clientCpuMicros: NaN,
  };
  const waitingSince: number[] = contenders.map(() => NaN);
  const stop = new AbortController();
  stop.signal.addEventListener("abort", () => {
    for (const since of waitingSince) {
      if (since <= windowEnd) run.pendingWaits.push(windowEnd - since);
    }
  });
  const noteError = (err: unknown) => {
    run.errors++;
    run.errorSample ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  };
  let inside = 0;

  const loop = async (c: Contender, id: number) => {
    while (!stop.signal.aborted) {
      const start = clock();
      waitingSince[id] = start;
      let acquired: boolean;
      try {
        acquired = await c.acquire(stop.signal);
      } catch (err) {
        if (stop.signal.aborted) return; // aborted at the end of the window
        noteError(err);
        await delay(10);
        continue;
      } finally {
        waitingSince[id] = NaN;
      }
      const enter = clock();
      if (!acquired) {
        if (enter <= windowEnd) run.failed++;
        continue;
      }
      if (++inside > limit) run.overlaps++;
      if (enter <= windowEnd) run.perContender[id]++;
      // With a 0 ms hold nothing runs in between: only the 1 ms hold (and the
      // interval check across processes) can catch an overlap.
      if (holdMs > 0) await delay(holdMs);
      if (inside > limit) run.overlaps++;
      inside--;
      const exit = clock();
      run.acquisitions.push({ contender: id, start, enter, exit });
      try {
        await c.release();
      } catch (err) {
        noteError(err);
      }
    }
  };

  await delay(Math.max(0, startAt - clock()));
  const cpuAtStart = process.cpuUsage();
  const timer = setTimeout(() => {
    const { user, system } = process.cpuUsage(cpuAtStart);
    run.clientCpuMicros = user + system;
    stop.abort();
  }, Math.max(0, windowEnd - clock()));
  try {
    await Promise.all(contenders.map(loop));
  } finally {
    clearTimeout(timer);
    if (!stop.signal.aborted) stop.abort();
  }
  return run;
}
