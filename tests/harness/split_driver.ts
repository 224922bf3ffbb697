/**
 * A driver made of two clients: commands on one, the subscriber connection
 * on the other. With the subscriber's client behind a proxy, a test stalls
 * Pub/Sub alone while scripts still run.
 */

import type { LockClient, RedisDriver } from "../../mod.ts";
import { resolveDriver } from "../../lib/clients/lock_client.ts";
import type { ClientKind, TestEnv } from "./env.ts";
import { startProxy, type TcpProxy } from "./proxy.ts";

/** Scripts and `isTransient` from `commands`; `createSubscriber`, `sharded` from `subscriber`. */
export function splitDriver(commands: LockClient, subscriber: LockClient): RedisDriver {
  const run = resolveDriver(commands);
  const sub = resolveDriver(subscriber);
  return {
    evalsha: (sha, keys, args) => run.evalsha(sha, keys, args),
    eval: (source, keys, args) => run.eval(source, keys, args),
    isTransient: run.isTransient?.bind(run),
    createSubscriber: (events) => sub.createSubscriber(events),
    sharded: sub.sharded,
  };
}

/** A split driver whose subscriber connection goes through `proxy`. */
export interface ProxiedSubscriber {
  readonly driver: RedisDriver;
  readonly proxy: TcpProxy;
  /** Resumes the proxy, closes the proxied client, then the proxy. */
  close(): Promise<void>;
}

/** Commands on a direct client of `kind`, Pub/Sub on one behind a proxy (closed by `close()`). */
export async function proxiedSubscriber(
  env: TestEnv,
  kind: ClientKind,
): Promise<ProxiedSubscriber> {
  const proxy = await startProxy(env.server.port);
  const behind = await kind.connect(proxy.url);
  return {
    driver: splitDriver(await env.client(), behind.client),
    proxy,
    async close() {
      proxy.resume();
      await behind.close();
      await proxy.close();
    },
  };
}
