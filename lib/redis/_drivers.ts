/**
 * From whatever client a lock is given to its {@linkcode RedisDriver}. The
 * lock core knows no client library: each client adapter registers how to
 * recognise its client by shape and how to adapt it, when it is loaded (the
 * package's entry point loads them all). Drivers are cached per client, so
 * all locks on one client share one driver, and so one subscriber
 * connection.
 *
 * @module
 */

import type { RedisDriver } from "./driver.ts";
import { showValue } from "../util/_format.ts";

/** How to recognise and adapt one kind of client. */
export interface ClientKind {
  /** What the client is, for the error that lists what is supported. */
  readonly name: string;
  /** Lower first: a cluster client also fits its library's single-node shape. */
  readonly order: number;
  fits(client: unknown): boolean;
  adapt(client: never): RedisDriver;
}

const kinds: ClientKind[] = [];
const drivers = new WeakMap<object, RedisDriver>();

/** Adds a kind of client (once per kind; a module loaded twice adds nothing new). */
export function registerClientKind(kind: ClientKind): void {
  if (kinds.some((k) => k.name === kind.name)) return;
  kinds.push(kind);
  kinds.sort((a, b) => a.order - b.order);
}

function isDriver(value: unknown): value is RedisDriver {
  const d = value as Partial<Record<keyof RedisDriver, unknown>> | null;
  return typeof d === "object" && d !== null && typeof d.evalsha === "function" &&
    typeof d.eval === "function" && typeof d.createSubscriber === "function";
}

/**
 * The driver for `client`: itself when it is one, else its adapter's.
 * @throws {TypeError} For a client no registered adapter recognises.
 */
export function toDriver(client: unknown): RedisDriver {
  if (isDriver(client)) return client;
  if (typeof client === "object" && client !== null) {
    const cached = drivers.get(client);
    if (cached) return cached;
    const kind = kinds.find((k) => k.fits(client));
    if (kind) {
      const driver = kind.adapt(client as never);
      drivers.set(client, driver);
      return driver;
    }
  }
  const supported = [...kinds.map((k) => k.name), "or a RedisDriver"].join(", ");
  throw new TypeError(`client must be ${supported}, got ${showValue(client)}`);
}
