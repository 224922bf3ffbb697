/**
 * The lease of one acquisition: renews it before it runs out (when asked to)
 * and aborts the acquisition's signal with a `LockLostError` as soon as the
 * lease is known to be lost. Its timers never keep the process alive; they
 * share one timer queue, so that taking and releasing a lock in quick
 * succession sets no timer of its own. The signal is made when first asked
 * for (most acquisitions never read it): one lost before then is made
 * already aborted, with the same reason.
 *
 * @module
 */

import { LockLostError } from "./errors.ts";
import { now } from "../util/_runtime.ts";
import { type Scheduled, TimerQueue } from "../util/_timers.ts";

const timers = new TimerQueue(false);

/** What a lease asks of its lock. */
export interface LeaseOwner {
  readonly name: string;
  /** Sets the lease to `ttl` ms if still owned; resolves false when not owned. */
  extend(ttl: number): Promise<boolean>;
}

/** One acquisition's lease; see the module doc. */
export class Lease {
  readonly #owner: LeaseOwner;
  readonly #autoExtend: boolean;
  #controller: AbortController | undefined;
  #lostWith: LockLostError | undefined;
  #ttl: number;
  #deadline: Scheduled | undefined;
  #expiresAt = Infinity;
  #since = -Infinity;
  #renewal: Scheduled | undefined;
  #ended = false;
  #paused = false;

  /**
   * @param owner The lock that holds the lease.
   * @param startedAt When the acquiring command was sent (monotonic ms).
   * @param ttl The lease length in ms.
   * @param autoExtend Whether to renew it about every `ttl / 3`.
   * @param first The length of the lease as it stands now, when shorter than
   *   `ttl` (a fair-mode hand-off): it is then renewed to `ttl` once in any case.
   */
  constructor(
    owner: LeaseOwner,
    startedAt: number,
    ttl: number,
    autoExtend: boolean,
    first: number = ttl,
  ) {
    this.#owner = owner;
    this.#ttl = ttl;
    this.#autoExtend = autoExtend;
    this.#arm(startedAt, first);
    // A hand-off's lease may have run a while already: renew well before its end.
    const left = startedAt + first - now();
    if (autoExtend || first < ttl) this.#schedule(Math.max(0, Math.min(first / 3, left / 2)));
  }

  /**
   * An `extend(ttl)` sent at `sentAt`: later renewals ask for `ttl`, even
   * one in flight now; a shorter lease takes effect locally at once (should
   * its answer be lost, Redis may have shortened the key all the same).
   */
  extending(sentAt: number, ttl: number): void {
    this.#ttl = ttl;
    if (!this.#ended && sentAt + ttl < this.#expiresAt) this.#arm(sentAt, ttl);
  }

  /** Aborts with a `LockLostError` when the lease is lost. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#lostWith) this.#controller.abort(this.#lostWith);
    }
    return this.#controller.signal;
  }

  /**
   * Whether the lease is known to be lost. It also compares the clock with
   * the local deadline, so a process that resumes after a pause (whose
   * timers have not run yet) sees the loss at once, and the signal aborts.
   */
  get lost(): boolean {
    if (!this.#ended && now() >= this.#expiresAt) {
      this.lose("its lease ran out before a renewal succeeded");
    }
    return this.#lostWith !== undefined;
  }

  /**
   * Records a successful renewal sent at `sentAt` for `ttl` ms: the local
   * deadline moves to `sentAt + ttl`, unless a renewal sent later has been
   * confirmed already (its length is the one Redis has now).
   */
  renewed(sentAt: number, ttl: number): void {
    if (this.#ended) return;
    if (sentAt >= this.#since) this.#arm(sentAt, ttl);
    if (this.#autoExtend) this.#schedule(this.#ttl / 3);
  }

  #arm(since: number, length: number): void {
    timers.cancel(this.#deadline);
    this.#since = since;
    this.#expiresAt = since + length;
    this.#deadline = timers.schedule(this.#expiresAt, () => {
      this.lose("its lease ran out before a renewal succeeded");
    });
  }

  /**
   * Sends no renewal until {@linkcode resume} (while a release is in flight:
   * a renewal that Redis ran before it could record the hold's start after
   * the release decided there was no record to delete). One in flight goes on.
   */
  pause(): void {
    this.#paused = true;
    timers.cancel(this.#renewal);
  }

  /** Renews again after {@linkcode pause} (the release failed): at once, if due. */
  resume(): void {
    this.#paused = false;
    if (this.#ended) return;
    // With autoExtend, or while a hand-off's shorter first lease awaits its renewal.
    if (this.#autoExtend || this.#expiresAt - this.#since < this.#ttl) this.#schedule(0);
  }

  /** Stops renewing (at release). The signal is left as it is. */
  end(): void {
    this.#ended = true;
    timers.cancel(this.#deadline);
    timers.cancel(this.#renewal);
  }

  /** Marks the lease lost: stops renewing and aborts the signal. */
  lose(reason: string, cause?: unknown): void {
    if (this.#ended) return;
    this.end();
    this.#lostWith = new LockLostError(this.#owner.name, reason, { cause });
    this.#controller?.abort(this.#lostWith);
  }

  #schedule(delay: number): void {
    timers.cancel(this.#renewal);
    if (this.#paused) return;
    this.#renewal = timers.schedule(now() + delay, () => void this.#renew());
  }

  async #renew(): Promise<void> {
    const sentAt = now();
    const ttl = this.#ttl;
    try {
      const owned = await this.#owner.extend(ttl);
      if (this.#ended) return;
      if (owned) this.renewed(sentAt, ttl);
      else this.lose("a renewal found the key gone or held by another holder");
    } catch {
      // Redis unreachable: keep trying; the deadline timer reports the loss.
      if (!this.#ended) this.#schedule(Math.max(10, ttl / 10));
    }
  }
}
