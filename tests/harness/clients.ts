/**
 * Every Redis client the behaviour suite runs against, as a lock sees it:
 * node-redis v6 (RESP3 and RESP2) and v5, ioredis v5 and v6, and on Bun its
 * built-in RedisClient. Also used by child-process fixtures.
 */

import { createClient as createClient6 } from "redis";
import { createClient as createClient5 } from "redis5";
import { Redis as IoRedis5 } from "ioredis";
import { Redis as IoRedis6 } from "ioredis6";
import type { LockClient } from "../../mod.ts";

/** A Redis client library under test. */
export interface ClientKind {
  readonly name: string;
  connect(url: string): Promise<{ client: LockClient; close(): Promise<void> }>;
}

function nodeRedis(name: string, create: typeof createClient6, RESP?: 2 | 3): ClientKind {
  return {
    name,
    async connect(url) {
      const client = create({ url, RESP } as Parameters<typeof createClient6>[0]);
      client.on("error", () => {}); // reconnects are part of some tests
      await client.connect();
      // A client left on a dead socket (node-redis 5.9.0 after a restart)
      // never answers its QUIT: destroy it.
      const close = async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const closed = client.close().then(() => true, () => true);
        const late = new Promise<false>((resolve) => timer = setTimeout(resolve, 2_000, false));
        const done = await Promise.race([closed, late]);
        clearTimeout(timer);
        if (done) return;
        try {
          client.destroy(); // rejects the commands still queued
        } catch {
          // node-redis 5 refuses destroy() once close() has begun (its
          // queue is flushed first all the same); the dead socket goes when
          // the server or proxy behind it closes.
        }
      };
      return { client: client as unknown as LockClient, close };
    },
  };
}

function ioredis(name: string, Redis: typeof IoRedis5): ClientKind {
  return {
    name,
    async connect(url) {
      const client = new Redis(url, { lazyConnect: true });
      client.on("error", () => {});
      await client.connect();
      return {
        client: client as unknown as LockClient,
        close: async () => void await client.quit(),
      };
    },
  };
}

interface BunClient {
  connect(): Promise<void>;
  close(): void;
}

async function bunKinds(): Promise<ClientKind[]> {
  if (!("Bun" in globalThis)) return [];
  const specifier = "bun";
  const { RedisClient } = await import(specifier) as {
    RedisClient: new (url: string) => BunClient;
  };
  return [{
    name: "Bun RedisClient",
    async connect(url) {
      const client = new RedisClient(url);
      await client.connect();
      return {
        client: client as unknown as LockClient,
        close: () => Promise.resolve(client.close()),
      };
    },
  }];
}

/** Every client kind available on this runtime. */
export const CLIENT_KINDS: readonly ClientKind[] = [
  nodeRedis("node-redis v6 RESP3", createClient6),
  nodeRedis("node-redis v6 RESP2", createClient6, 2),
  nodeRedis("node-redis v5 RESP2", createClient5 as unknown as typeof createClient6),
  ioredis("ioredis v5", IoRedis5),
  ioredis("ioredis v6", IoRedis6 as unknown as typeof IoRedis5),
  ...await bunKinds(),
];

/** The client kind called `name`. */
export function clientKind(name: string): ClientKind {
  const kind = CLIENT_KINDS.find((k) => k.name === name);
  if (!kind) throw new Error(`no client kind ${name}; known: ${CLIENT_KINDS.map((k) => k.name)}`);
  return kind;
}
