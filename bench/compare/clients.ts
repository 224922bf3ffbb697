/**
 * Connections for the comparison: a node-redis or an ioredis client, and a
 * raw command function over either, so that the hand-off floor and the
 * uncontended baseline run the same code on both clients.
 *
 * @module
 */

import { createClient } from "redis";
import { Redis } from "ioredis";

/** The two clients the comparison runs on. */
export type ClientKind = "node-redis" | "ioredis";

const newNodeRedis = (url: string) => createClient({ url });
/** A node-redis client as `createClient({ url })` makes it. */
export type NodeRedis = ReturnType<typeof newNodeRedis>;

/** A node-redis client, connected, errors silenced (a failed command still rejects). */
export async function nodeRedis(url: string): Promise<NodeRedis> {
  const client = newNodeRedis(url);
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** An ioredis client, connected, errors silenced (a failed command still rejects). */
export async function ioRedis(url: string): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** One connection seen as a raw command function. */
export interface RawConnection {
  /** Sends one command (`["SET", key, ...]`) and resolves with the reply as the client parses it. */
  call(args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

/** A new connection of `kind` to `url`. */
export async function rawConnection(kind: ClientKind, url: string): Promise<RawConnection> {
  if (kind === "node-redis") {
    const client = await nodeRedis(url);
    return { call: (args) => client.sendCommand(args), close: () => client.close() };
  }
  const client = await ioRedis(url);
  return {
    call: ([command, ...args]) => client.call(command, ...args),
    close: async () => void await client.quit(),
  };
}
