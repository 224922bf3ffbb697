/**
 * Lease-aware stopping for `redis-lock run`. The command renews the lease
 * itself (`extend()`, the lock made with `autoExtend: false`) so that it
 * knows exactly when the last renewal that Redis confirmed was sent. The
 * lease then runs at least `ttl` from that moment (Redis sets it when it
 * runs the renewal, which is later). If no renewal succeeds meanwhile (Redis
 * unreachable, a network split), the command gets SIGTERM at
 * `ttl - margin - killAfter` after that renewal and SIGKILL at
 * `ttl - margin`: it is dead before the lease can end and pass to anyone
 * else.
 *
 * @module
 */

import {
  LockNotOwnedError,
  type RedisLock,
  type RedisSemaphore,
  type RedisSpinLock,
} from "@x/redis-lock";
import { MIN_RENEW_MS, renewalPeriod, safetyMargin } from "./bounds.ts";
import { formatDuration } from "./duration.ts";

/** The lock (or semaphore permit) a `run` holds. */
type HeldLock = RedisLock | RedisSpinLock | RedisSemaphore;

/**
 * What the lease keeper reports.
 *
 * @example
 * ```ts
 * import type { LeaseEvents } from "./lease.ts";
 *
 * const events: LeaseEvents = {
 *   stop: (reason) => console.log("SIGTERM now:", reason),
 *   kill: (reason) => console.log("SIGKILL now:", reason),
 *   lost: (reason) => console.log("lost:", reason),
 * };
 * ```
 */
export interface LeaseEvents {
  /** No renewal succeeded for `ttl - margin - killAfter`: start stopping the command. */
  stop(reason: string): void;
  /** No renewal succeeded for `ttl - margin`: SIGKILL the command now. */
  kill(reason: string): void;
  /** Redis says the lock is no longer ours (the key is gone or changed). */
  lost(reason: string): void;
}

/**
 * Renews one held lock's lease and tells when the command must be stopped;
 * see the module doc.
 *
 * @example
 * ```ts
 * import { LeaseKeeper } from "./lease.ts";
 * import { RedisLock } from "@x/redis-lock";
 * import { createClient } from "npm:redis@^6";
 *
 * const client = await createClient().connect();
 * const lock = new RedisLock(client, "job", { ttl: 10_000, autoExtend: false });
 * await lock.acquire();
 * const keeper = new LeaseKeeper(lock, 10_000, 3_000, {
 *   stop: () => {},
 *   kill: () => {},
 *   lost: () => {},
 * });
 * await keeper.start();
 * keeper.close();
 * await lock.release();
 * await client.close();
 * ```
 */
export class LeaseKeeper {
  readonly #lock: HeldLock;
  readonly #ttl: number;
  readonly #killAfter: number;
  readonly #margin: number;
  readonly #period: number;
  readonly #events: LeaseEvents;
  #renewedAt = -Infinity;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  #stopTimer: ReturnType<typeof setTimeout> | undefined;
  #killTimer: ReturnType<typeof setTimeout> | undefined;
  #inFlight = false;
  #closed = false;
  #onAbort = () => this.#lose(reasonOf(this.#lock.signal.reason));

  /**
   * @param lock The lock, held, made with `autoExtend: false`.
   * @param ttl The lease length, in ms.
   * @param killAfter The grace between SIGTERM and SIGKILL, in ms.
   * @param events Where to report.
   */
  constructor(lock: HeldLock, ttl: number, killAfter: number, events: LeaseEvents) {
    this.#lock = lock;
    this.#ttl = ttl;
    this.#killAfter = killAfter;
    this.#margin = safetyMargin(ttl);
    this.#period = renewalPeriod(ttl, killAfter);
    this.#events = events;
  }

  /** When the last renewal Redis confirmed was sent (`performance.now()` ms). */
  get renewedAt(): number {
    return this.#renewedAt;
  }

  /** When the command must get SIGTERM if no renewal succeeds before. */
  get stopAt(): number {
    return this.#renewedAt + this.#ttl - this.#margin - this.#killAfter;
  }

  /** When the command must be dead if no renewal succeeds before. */
  get killAt(): number {
    return this.#renewedAt + this.#ttl - this.#margin;
  }

  /** Whether the command may run on: the lock is held and its stop time has not come. */
  get mayRun(): boolean {
    return !this.#closed && this.#lock.held && performance.now() < this.stopAt;
  }

  /**
   * Renews the lease once (so that its start is known exactly), then keeps
   * renewing it until {@linkcode LeaseKeeper.close}.
   * @throws {LockNotOwnedError} When the lock is no longer held.
   */
  async start(): Promise<void> {
    const sentAt = performance.now();
    await this.#lock.extend();
    this.#renewed(sentAt);
    this.#lock.signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Stops renewing and clears every timer. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#renewTimer);
    clearTimeout(this.#stopTimer);
    clearTimeout(this.#killTimer);
    this.#lock.signal.removeEventListener("abort", this.#onAbort);
  }

  #renewed(sentAt: number): void {
    if (this.#closed || sentAt <= this.#renewedAt) return;
    this.#renewedAt = sentAt;
    clearTimeout(this.#stopTimer);
    clearTimeout(this.#killTimer);
    const since = () => formatDuration(performance.now() - this.#renewedAt);
    const now = performance.now();
    this.#stopTimer = setTimeout(() => {
      this.#events.stop(`no lease renewal has succeeded for ${since()}`);
    }, Math.max(0, this.stopAt - now));
    this.#killTimer = setTimeout(() => {
      this.#events.kill(`no lease renewal has succeeded for ${since()}`);
    }, Math.max(0, this.killAt - now));
    this.#schedule(this.#period);
  }

  #schedule(delay: number): void {
    clearTimeout(this.#renewTimer);
    if (!this.#closed) this.#renewTimer = setTimeout(() => void this.#renew(), delay);
  }

  async #renew(): Promise<void> {
    if (this.#closed || this.#inFlight) return;
    this.#inFlight = true;
    const sentAt = performance.now();
    try {
      await this.#lock.extend();
      this.#renewed(sentAt);
    } catch (err) {
      if (this.#closed) return;
      if (err instanceof LockNotOwnedError || !this.#lock.held) {
        this.#lose(`${reasonOf(err)}`);
        return;
      }
      // Redis unreachable: try again soon; the stop and kill timers run on.
      this.#schedule(Math.max(MIN_RENEW_MS / 2, this.#period / 3));
    } finally {
      this.#inFlight = false;
    }
  }

  #lose(reason: string): void {
    if (this.#closed) return;
    this.close();
    this.#events.lost(reason);
  }
}

/** The reason part of a library error ("... was lost: <reason>"). */
function reasonOf(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  const text = typeof message === "string" ? message : String(err);
  const colon = text.indexOf(": ");
  return colon >= 0 && text.startsWith("Lock ") ? text.slice(colon + 2) : text;
}
