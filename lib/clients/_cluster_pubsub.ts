/**
 * The subscriber of both cluster adapters (node-redis and ioredis): Pub/Sub
 * on the cluster client's own connections. Each adapter gives small hooks:
 * how to subscribe and unsubscribe a channel (with its message listener),
 * which events mean that a subscription may have been lost (a node
 * connection became ready, a node failed) and which one means that the
 * client closed.
 *
 * It keeps one record: the channels that were asked for and neither failed
 * nor were unsubscribed. A subscription not confirmed within its tries is
 * forgotten at once (the caller retries it if it still needs it), and a
 * confirmation that comes later is undone. After a topology event every
 * channel is subscribed again, confirmed, and waiters are told to retry: a
 * wake-up may have been lost. One resync runs at a time; an event during a
 * resync runs another one after it.
 *
 * @module
 */

import type { RedisSubscriber, SubscriberEvents } from "../redis/driver.ts";
import { unrefTimer } from "../util/_runtime.ts";
import { within } from "../util/_timers.ts";

/** What a cluster adapter tells the shared subscriber; see the module doc. */
export interface ClusterPubSubHooks {
  /** Subscribes `channel` (SSUBSCRIBE or SUBSCRIBE); resolves once confirmed. */
  subscribe(channel: string): Promise<unknown>;
  /** Unsubscribes `channel`; resolves once confirmed. */
  unsubscribe(channel: string): Promise<unknown>;
  /**
   * Whether a resync unsubscribes a channel before subscribing it again: a
   * client that counts the channel as subscribed would otherwise send nothing.
   */
  readonly unsubscribeFirst: boolean;
  /** Adds a listener for a client event. */
  on(event: string, listener: () => void): unknown;
  /** Removes it. */
  off(event: string, listener: () => void): unknown;
  /** The events after which subscriptions may have been lost. */
  readonly topologyEvents: readonly string[];
  /** The event of the client closing for good. */
  readonly closedEvent: string;
  /** Called once at close (for example, to stop listening for messages). */
  stop?(): void;
}

/** How long one try waits for a confirmation, in ms. */
export const CONFIRM_MS = 2_000;
/** How long after a topology event the resync starts, in ms (events come in bursts). */
export const SETTLE_MS = 100;
/** How long after a failed resync the next one starts, in ms. */
export const RETRY_MS = 1_000;

/** A subscriber over a cluster client; see the module doc. */
export function clusterSubscriber(
  hooks: ClusterPubSubHooks,
  events: SubscriberEvents,
): RedisSubscriber {
  const channels = new Set<string>();
  let closed = false;
  let ended = false; // the client closed: nothing left to unsubscribe
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let again = false;

  const remove = (channel: string) => within(hooks.unsubscribe(channel), CONFIRM_MS, "no reply");
  // Undoes a subscription that is no longer wanted (it failed, or was left meanwhile).
  const unlessWanted = async (channel: string) => {
    if (!channels.has(channel) && !ended) await remove(channel);
  };
  // One confirmed try. Its confirmation may still come after the try gave up
  // (a node that stalls, then answers): it is then undone unless wanted.
  const add = (channel: string) => {
    const sent = hooks.subscribe(channel);
    return within(sent, CONFIRM_MS, `subscription to ${channel} not confirmed`).catch((err) => {
      sent.then(() => unlessWanted(channel)).catch(() => {});
      throw err;
    });
  };
  const redo = async (channel: string) => {
    if (hooks.unsubscribeFirst) await remove(channel).catch(() => {});
    if (channels.has(channel)) await add(channel);
    await unlessWanted(channel);
  };
  const schedule = (ms: number) => {
    clearTimeout(timer);
    timer = unrefTimer(setTimeout(resync, ms));
  };
  async function resync(): Promise<void> {
    if (running) return void (again = true);
    if (closed || channels.size === 0) return;
    running = true;
    again = false;
    const ok = await Promise.all([...channels].map(redo)).then(() => true, () => false);
    running = false;
    if (closed) return;
    if (ok) events.resubscribed();
    if (again) schedule(SETTLE_MS);
    else if (!ok) schedule(RETRY_MS);
  }

  const onTopology = () => schedule(SETTLE_MS);
  const close = async (clientClosed = false) => {
    if (closed) return;
    closed = true;
    ended ||= clientClosed;
    clearTimeout(timer);
    for (const event of hooks.topologyEvents) hooks.off(event, onTopology);
    hooks.off(hooks.closedEvent, onEnd);
    hooks.stop?.();
    const left = ended ? [] : [...channels];
    channels.clear();
    events.closed();
    await Promise.allSettled(left.map(remove));
  };
  const onEnd = () => void close(true);
  for (const event of hooks.topologyEvents) hooks.on(event, onTopology);
  hooks.on(hooks.closedEvent, onEnd);

  return {
    async subscribe(channel) {
      channels.add(channel);
      try {
        // A node that just died holds the first try until the client gives
        // up on it, and a stale slot map can leave it unanswered; the second
        // goes where the slot is then.
        await add(channel).catch(() => add(channel));
      } catch (err) {
        channels.delete(channel); // the caller retries while it needs the channel
        throw err;
      }
    },
    async unsubscribe(channel) {
      // Nothing to undo for a channel whose subscription failed.
      if (channels.delete(channel)) await remove(channel);
    },
    close: () => close(),
  };
}
