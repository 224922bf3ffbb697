/**
 * The bounds of `redis-lock run`'s lease-aware stopping: the safety margin,
 * how long `--kill-after` may be for a lease, its default, and how often the
 * lease is renewed. With `--ttl T` and `--kill-after K`, when no renewal
 * succeeds the command gets SIGTERM at `T - M - K` after the last renewal
 * Redis confirmed and SIGKILL at `T - M` (`M` = {@linkcode safetyMargin}).
 *
 * @module
 */

/** The shortest renewal period, in ms. */
export const MIN_RENEW_MS = 50;

/** The shortest `--ttl`, in ms. */
export const MIN_TTL_MS = 1_000;

/**
 * The safety margin for a lease of `ttl` ms: the command is SIGKILLed this
 * long before the lease could end, for timers that fire late on a busy
 * machine. A tenth of the lease, from 100 ms to 1 s.
 *
 * @param ttl The lease, in ms.
 * @returns The margin, in ms.
 *
 * @example
 * ```ts
 * import { safetyMargin } from "./cli_bounds.ts";
 *
 * console.log(safetyMargin(1_000), safetyMargin(3_000), safetyMargin(30_000)); // 100 300 1000
 * ```
 */
export function safetyMargin(ttl: number): number {
  return Math.min(1_000, Math.max(100, Math.round(ttl / 10)));
}

/**
 * The longest `--kill-after` a lease of `ttl` ms allows: SIGKILL must come a
 * margin before the lease can end, and SIGTERM late enough after the last
 * renewal that three renewals can be tried in between.
 *
 * @param ttl The lease, in ms.
 * @returns The longest grace period, in ms.
 *
 * @example
 * ```ts
 * import { maxKillAfter } from "./cli_bounds.ts";
 *
 * console.log(maxKillAfter(30_000)); // 28850
 * ```
 */
export function maxKillAfter(ttl: number): number {
  return ttl - safetyMargin(ttl) - 3 * MIN_RENEW_MS;
}

/**
 * `--kill-after` when it is not given: 10 s, or less for a short lease (half
 * of what is left of it after the margin).
 *
 * @param ttl The lease, in ms.
 * @returns The grace period, in ms.
 *
 * @example
 * ```ts
 * import { defaultKillAfter } from "./cli_bounds.ts";
 *
 * console.log(defaultKillAfter(30_000), defaultKillAfter(3_000)); // 10000 1350
 * ```
 */
export function defaultKillAfter(ttl: number): number {
  return Math.min(10_000, Math.floor((ttl - safetyMargin(ttl)) / 2));
}

/**
 * How often the lease is renewed: every third of the lease, or more often
 * when `killAfter` leaves less room, so that at least three renewals are
 * tried before the command would be stopped.
 *
 * @param ttl The lease, in ms.
 * @param killAfter The grace between SIGTERM and SIGKILL, in ms.
 * @returns The renewal period, in ms.
 *
 * @example
 * ```ts
 * import { renewalPeriod } from "./cli_bounds.ts";
 *
 * console.log(renewalPeriod(30_000, 10_000)); // 6333
 * ```
 */
export function renewalPeriod(ttl: number, killAfter: number): number {
  const room = ttl - safetyMargin(ttl) - killAfter;
  return Math.max(MIN_RENEW_MS, Math.floor(Math.min(ttl / 3, room / 3)));
}
