/**
 * The subscriber manager: one Pub/Sub connection per driver (so per client),
 * shared by every lock and waiter on it. Channels are reference-counted:
 * subscribed when the first waiter joins, unsubscribed when the last leaves,
 * unless it leaves with the lock: then the channel stays subscribed for
 * {@linkcode LINGER_MS}, for the holder's next wait. A contended lock then
 * costs no SUBSCRIBE and UNSUBSCRIBE per acquisition, also when its holders
 * come back while nobody waits (two processes taking turns).
 *
 * Waiters of one channel queue in arrival order. On a race-mode channel a
 * message wakes only the oldest (the head); when the head leaves (it took
 * the lock, timed out or was aborted) the next one is woken in its place. So
 * one release costs one retry per process, not one per waiter. On a
 * process's hand-off channel a `grant` goes to the waiter it names; a fair
 * waiter that took the lock wakes the next local one (to learn the new
 * holder's lease), and a forced release or a reconnection wakes them all.
 *
 * @module
 */

import type { RedisDriver, RedisSubscriber } from "../redis/driver.ts";
import { now, unrefTimer } from "../util/_runtime.ts";
import { type Scheduled, TimerQueue } from "../util/_timers.ts";
import type { Waiter } from "./_waiter.ts";
import { deliver } from "./_deliver.ts";

interface Channel {
  readonly waiters: Waiter[];
  /** Settles once the subscription is confirmed, or has failed for good. */
  ready: Promise<void>;
  /** Set while the channel stays subscribed with no waiter (see `leave`). */
  linger?: Scheduled;
}

const managers = new WeakMap<RedisDriver, SubscriberManager>();
// Lingering channels' timers, on one unref'd timer: a contended lock sets and
// cancels one per acquisition.
const LINGERING = new TimerQueue(false);

/** How long a lock counts as contended after a waiter joined its channel, in ms. */
export const RECENT_MS = 2_000;
const MAX_RECENT = 10_000; // names remembered at most (the memory is a hint)
const FIRST_RETRY_MS = 25; // backoff of a failed SUBSCRIBE, doubled up to…
const MAX_RETRY_MS = 1_000;
/**
 * How long at most a channel stays subscribed after its last waiter left
 * with the lock, in ms (see {@linkcode SubscriberManager.leave}).
 */
export const LINGER_MS = RECENT_MS;

/**
 * Shares one Pub/Sub connection among all waiters of a driver.
 *
 * @example Counting what a client has subscribed
 * ```ts
 * import { SubscriberManager } from "./subscriber_manager.ts";
 * import type { RedisDriver } from "../redis/driver.ts";
 *
 * declare const driver: RedisDriver;
 * const manager = SubscriberManager.for(driver);
 * console.log(manager.channelCount, manager.waiterCount);
 * ```
 */
export class SubscriberManager {
  readonly #driver: RedisDriver;
  readonly #channels = new Map<string, Channel>();
  readonly #live = new Set<string>();
  readonly #joined = new Map<string, number>();
  #connection: Promise<RedisSubscriber> | undefined;
  #connections = 0;

  /** The manager of `driver`, created on first use. */
  static for(driver: RedisDriver): SubscriberManager {
    let manager = managers.get(driver);
    if (!manager) managers.set(driver, manager = new SubscriberManager(driver));
    return manager;
  }

  /**
   * Creates a manager; use {@linkcode SubscriberManager.for} to share one.
   * @param driver The driver whose subscriber connection this manages.
   */
  constructor(driver: RedisDriver) {
    this.#driver = driver;
  }

  /** How many channels are subscribed (or being subscribed) now. */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** How many waiters are queued on all channels now. */
  get waiterCount(): number {
    let n = 0;
    for (const channel of this.#channels.values()) n += channel.waiters.length;
    return n;
  }

  /** How many subscriber connections this manager has opened so far. */
  get connectionsOpened(): number {
    return this.#connections;
  }

  /**
   * Queues `waiter` on `channel` (subscribing first if needed). The returned
   * promise resolves once Redis has confirmed the subscription. The waiter
   * must call {@linkcode SubscriberManager.leave} in every case.
   */
  join(channel: string, waiter: Waiter): Promise<void> {
    let entry = this.#channels.get(channel);
    if (!entry) {
      const created: Channel = { waiters: [], ready: Promise.resolve() };
      created.ready = this.#subscribe(channel, created);
      this.#channels.set(channel, entry = created);
      created.ready.then(() => {
        if (this.#channels.get(channel) === created) this.#live.add(channel);
      }, () => {
        if (this.#channels.get(channel) === created) this.#channels.delete(channel);
      });
    }
    LINGERING.cancel(entry.linger);
    entry.linger = undefined;
    entry.waiters.push(waiter);
    if (this.#joined.size >= MAX_RECENT) this.#joined.clear();
    this.#joined.set(channel, now());
    return entry.ready;
  }

  /** Whether `channel` is subscribed and confirmed (joining it costs nothing). */
  isLive(channel: string): boolean {
    return this.#live.has(channel);
  }

  /**
   * Whether a waiter joined `channel` within the last {@linkcode RECENT_MS}:
   * the lock is contended here, so the next waiter subscribes first.
   */
  recentlyJoined(channel: string): boolean {
    const at = this.#joined.get(channel);
    if (at === undefined) return false;
    if (now() - at < RECENT_MS) return true;
    this.#joined.delete(channel);
    return false;
  }

  /** Whether `waiter` is the oldest waiter of `channel`. */
  isHead(channel: string, waiter: Waiter): boolean {
    return this.#channels.get(channel)?.waiters[0] === waiter;
  }

  /**
   * Removes `waiter`; wakes the next head; unsubscribes an emptied channel,
   * at once, or {@linkcode LINGER_MS} later with `linger` (a waiter that
   * took the lock: a confirmed subscription is kept for the next waiter).
   * The UNSUBSCRIBE goes on in the background: nothing waits for the
   * subscriber connection.
   */
  leave(channel: string, waiter: Waiter, linger = false): void {
    const entry = this.#channels.get(channel);
    const index = entry?.waiters.indexOf(waiter) ?? -1;
    if (!entry || index < 0) return;
    entry.waiters.splice(index, 1);
    // A race-mode head passes its wake-up on. A fair waiter is told its own
    // grant, but one that took the lock wakes the next, which then learns the
    // new holder's lease (and finds a dead holder when it ends).
    if (waiter.token ? linger : index === 0) entry.waiters[0]?.notify();
    if (entry.waiters.length > 0) return;
    LINGERING.cancel(entry.linger);
    entry.linger = undefined;
    if (linger && this.#live.has(channel)) {
      entry.linger = LINGERING.schedule(now() + LINGER_MS, () => {
        entry.linger = undefined;
        if (entry.waiters.length === 0) this.#drop(channel, entry);
      });
      return;
    }
    this.#drop(channel, entry);
  }

  #drop(channel: string, entry: Channel): void {
    if (this.#channels.get(channel) !== entry) return;
    this.#channels.delete(channel);
    this.#live.delete(channel);
    entry.ready.then(async () => {
      if (this.#channels.has(channel)) return; // re-joined meanwhile: still needed
      await (await this.#connection)?.unsubscribe(channel);
    }).catch(() => {}); // a dead connection has no subscriptions left to undo
  }

  /**
   * Subscribes, and on an error the driver calls transient (a dropped
   * connection, a cluster moving a slot, no confirmation in time) tries
   * again after a backoff for as long as `entry` is the channel's and has
   * waiters. The waiters meanwhile re-check the lock on their own bounds.
   */
  async #subscribe(channel: string, entry: Channel): Promise<void> {
    for (let backoff = FIRST_RETRY_MS;; backoff = Math.min(2 * backoff, MAX_RETRY_MS)) {
      try {
        const connection = await this.#connect();
        await connection.subscribe(channel);
        return;
      } catch (err) {
        const wanted = this.#channels.get(channel) === entry && entry.waiters.length > 0;
        if (!wanted || !this.#driver.isTransient?.(err)) throw err;
        await new Promise((resolve) => unrefTimer(setTimeout(resolve, backoff)));
      }
    }
  }

  #connect(): Promise<RedisSubscriber> {
    if (this.#connection) return this.#connection;
    this.#connections++;
    const opening = this.#driver.createSubscriber({
      message: (channel, payload) => deliver(this.#channels.get(channel)?.waiters, payload),
      resubscribed: () => { // messages meanwhile are lost: check again
        for (const { waiters } of this.#channels.values()) deliver(waiters, "resubscribed");
      },
      closed: () => {
        if (this.#connection !== opening) return;
        this.#connection = undefined;
        for (const [channel, entry] of this.#channels) { // nothing left to keep
          if (entry.waiters.length > 0) continue;
          LINGERING.cancel(entry.linger);
          this.#channels.delete(channel);
          this.#live.delete(channel);
        }
      },
    });
    this.#connection = opening;
    opening.catch(() => {
      if (this.#connection === opening) this.#connection = undefined;
    });
    return opening;
  }
}
