/**
 * The subscriber manager: one Pub/Sub connection per driver (so per client),
 * shared by every lock and waiter on it. Channels are reference-counted:
 * subscribed when the first waiter joins, unsubscribed when the last leaves.
 *
 * Waiters of one channel queue in arrival order. A message wakes only the
 * oldest (the head); when the head leaves (it took the lock, timed out or was
 * aborted) the next one is woken in its place. So one release costs one retry
 * per process, not one per waiter.
 *
 * @module
 */

import type { RedisDriver, RedisSubscriber } from "./driver.ts";
import { now } from "./_runtime.ts";
import type { Waiter } from "./_waiter.ts";

interface Channel {
  readonly waiters: Waiter[];
  readonly ready: Promise<void>;
}

const managers = new WeakMap<RedisDriver, SubscriberManager>();

/** How long a lock counts as contended after a waiter joined its channel, in ms. */
export const RECENT_MS = 2_000;
const MAX_RECENT = 10_000; // names remembered at most (the memory is a hint)

/**
 * Shares one Pub/Sub connection among all waiters of a driver.
 *
 * @example Counting what a client has subscribed
 * ```ts
 * import { SubscriberManager } from "./subscriber_manager.ts";
 * import type { RedisDriver } from "./driver.ts";
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
      entry = { waiters: [], ready: this.#subscribe(channel) };
      this.#channels.set(channel, entry);
      const created = entry;
      created.ready.then(() => {
        if (this.#channels.get(channel) === created) this.#live.add(channel);
      }, () => {
        if (this.#channels.get(channel) === created) this.#channels.delete(channel);
      });
    }
    entry.waiters.push(waiter);
    if (this.#joined.size >= MAX_RECENT) this.#joined.clear();
    this.#joined.set(channel, now());
    return entry.ready;
  }

  /** Whether `channel` is subscribed, confirmed, with waiters (joining it costs nothing). */
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
   * Removes `waiter`; wakes the next head; unsubscribes an emptied channel.
   * The returned promise settles once that UNSUBSCRIBE is confirmed (it
   * never rejects: a dead connection has no subscriptions left to undo).
   */
  leave(channel: string, waiter: Waiter): Promise<void> {
    const entry = this.#channels.get(channel);
    const index = entry?.waiters.indexOf(waiter) ?? -1;
    if (!entry || index < 0) return Promise.resolve();
    entry.waiters.splice(index, 1);
    if (index === 0) entry.waiters[0]?.notify();
    if (entry.waiters.length > 0) return Promise.resolve();
    this.#channels.delete(channel);
    this.#live.delete(channel);
    return entry.ready.then(async () => {
      if (this.#channels.has(channel)) return; // re-joined meanwhile: still needed
      await (await this.#connection)?.unsubscribe(channel);
    }).catch(() => {});
  }

  #deliver(channel: string, payload: string): void {
    const waiters = this.#channels.get(channel)?.waiters;
    if (!waiters) return;
    if (!payload.startsWith("grant ")) return waiters[0]?.notify();
    const [, token, fence, lease] = payload.split(" ");
    const waiter = waiters.find((w) => w.token === token);
    if (!waiter) return; // a waiter of another process
    waiter.grant = { fence: Number(fence), at: now(), lease: Number(lease) };
    waiter.notify();
  }

  async #subscribe(channel: string): Promise<void> {
    const connection = await this.#connect();
    await connection.subscribe(channel);
  }

  #connect(): Promise<RedisSubscriber> {
    if (this.#connection) return this.#connection;
    this.#connections++;
    const opening = this.#driver.createSubscriber({
      message: (channel, payload) => this.#deliver(channel, payload),
      resubscribed: () => {
        for (const entry of this.#channels.values()) entry.waiters[0]?.notify();
      },
      closed: () => {
        if (this.#connection === opening) this.#connection = undefined;
      },
    });
    this.#connection = opening;
    opening.catch(() => {
      if (this.#connection === opening) this.#connection = undefined;
    });
    return opening;
  }
}
