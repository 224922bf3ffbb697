/**
 * The round-trip reference of the comparison: sequential PING round trips on one
 * node-redis connection, the least a request to this Redis can cost.
 *
 * @module
 */

import { createClient } from "redis";
import type { Ping } from "./report.ts";
import { clock } from "./run.ts";
import { percentile } from "./stats.ts";

/** PINGs one after another for `seconds`; round trips per second and latency percentiles. */
export async function pingFloor(url: string, seconds: number): Promise<Ping> {
  const client = await createClient({ url }).connect();
  try {
    const times: number[] = [];
    await client.ping();
    const end = clock() + seconds * 1000;
    for (let t = clock(); t < end;) {
      await client.ping();
      const now = clock();
      times.push(now - t);
      t = now;
    }
    times.sort((a, b) => a - b);
    return {
      opsPerSec: times.length / seconds,
      p50Ms: percentile(times, 50),
      p99Ms: percentile(times, 99),
    };
  } finally {
    await client.close();
  }
}
