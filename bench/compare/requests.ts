/**
 * Counting what a lock costs Redis, from the server's own statistics: the
 * commands it ran, the client requests among them, and its CPU time.
 *
 * A run reads `INFO stats commandstats cpu` when its window starts and when
 * it ends ({@linkcode StatsReader.read}) and takes the difference
 * ({@linkcode since}). Redis CPU is `used_cpu_sys + used_cpu_user` of the
 * whole redis-server process (getrusage, µs resolution).
 *
 * Operations: every `commandstats` call, the `EVALSHA` itself and every
 * command its script runs (`redis.call`) alike (Redis 7 counts both), and a
 * `BLPOP` once when it is served; the reader's own `INFO` is left out.
 *
 * Requests are what the clients sent. Redis 7.0 counts the commands a Lua
 * script runs in both `total_commands_processed` and `commandstats`, so an
 * EVALSHA whose script does SET and PUBLISH counts 3 while the client sent
 * 1 request. {@linkcode scriptCommandGrowth} checks this at startup (one EVAL
 * that runs SET and GET: does the total grow by 1 or by 3?).
 *
 * When scripts are counted, the script-run calls are taken out by name.
 * Which names a lock sends itself and which it only runs inside scripts is
 * learnt once per lock with MONITOR ({@linkcode learnOrigins}), which tags
 * every command with its origin: a client address, or `lua`. MONITOR slows
 * Redis down, so it runs only in a short calibration before the measured
 * runs, never during them. A name that one lock both sends and runs in a
 * script cannot be split this way; it is counted as requests (an upper
 * bound) and the result is flagged `approx`.
 *
 * @module
 */

import { once } from "node:events";
import { Socket } from "node:net";
import { createClient } from "redis";

/** Command calls (since the last reset, or between two reads) and Redis CPU time. */
export interface CommandCounts {
  /** `total_commands_processed`. */
  readonly total: number;
  /** `commandstats` calls by name (`set`, `evalsha`, `config|resetstat`, ...). */
  readonly byCommand: Record<string, number>;
  /** `used_cpu_sys + used_cpu_user` in seconds (a difference: the CPU between two reads). */
  readonly cpuSeconds: number;
}

/** What happened between two reads: `after` minus `before`. */
export function since(before: CommandCounts, after: CommandCounts): CommandCounts {
  const byCommand: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after.byCommand)) {
    const delta = calls - (before.byCommand[name] ?? 0);
    if (delta > 0) byCommand[name] = delta;
  }
  return {
    total: after.total - before.total,
    byCommand,
    cpuSeconds: after.cpuSeconds - before.cpuSeconds,
  };
}

/** Base command names (lower case) by origin, as MONITOR saw them. */
export interface CommandOrigins {
  readonly client: string[];
  readonly script: string[];
}

/** The reader's own commands, never counted. */
const OWN = new Set(["config|resetstat", "info", "monitor"]);

/** The slice of a node-redis client the reader uses. */
interface RawClient {
  sendCommand(args: string[]): Promise<unknown>;
  close(): Promise<unknown>;
}

/** A connection that resets and reads the server's command statistics. */
export class StatsReader {
  readonly #client: RawClient;

  private constructor(client: RawClient) {
    this.#client = client;
  }

  /** Connects to `url`. */
  static async open(url: string): Promise<StatsReader> {
    const client = createClient({ url });
    client.on("error", () => {});
    return new StatsReader(await client.connect());
  }

  /** `CONFIG RESETSTAT`. */
  async reset(): Promise<void> {
    await this.#client.sendCommand(["CONFIG", "RESETSTAT"]);
  }

  /** One `INFO` reply for the given sections. */
  async info(...sections: string[]): Promise<string> {
    return String(await this.#client.sendCommand(["INFO", ...sections]));
  }

  /** The counts since the last reset (the INFO that reads them is not yet in them) and CPU. */
  async read(): Promise<CommandCounts> {
    const text = await this.info("stats", "commandstats", "cpu");
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(text)?.[1]);
    const byCommand: Record<string, number> = {};
    for (const [, name, calls] of text.matchAll(/^cmdstat_(\S+?):calls=(\d+),/gm)) {
      byCommand[name] = Number(calls);
    }
    return {
      total: field("total_commands_processed"),
      byCommand,
      cpuSeconds: field("used_cpu_sys") + field("used_cpu_user"),
    };
  }

  /** Runs one raw command. */
  async command(...args: string[]): Promise<unknown> {
    return await this.#client.sendCommand(args);
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    await this.#client.close();
  }
}

/** How much `total_commands_processed` grows for one EVAL that runs SET and GET (1 or 3). */
export async function scriptCommandGrowth(reader: StatsReader): Promise<number> {
  await reader.reset();
  const before = (await reader.read()).total;
  await reader.command(
    "EVAL",
    "redis.call('SET', KEYS[1], 'x') return redis.call('GET', KEYS[1])",
    "1",
    "compare:check",
  );
  await reader.command("DEL", "compare:check");
  const after = (await reader.read()).total;
  return after - before - 2; // minus the first INFO and the DEL
}

/** Runs `during` with MONITOR on, and returns which command names came from clients and from scripts. */
export async function learnOrigins(
  port: number,
  during: () => Promise<void>,
): Promise<CommandOrigins> {
  const socket = new Socket();
  socket.setEncoding("utf8");
  socket.connect(port, "127.0.0.1");
  await once(socket, "connect");
  const client = new Set<string>();
  const script = new Set<string>();
  let buffer = "";
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split("\r\n");
    buffer = lines.pop()!;
    for (const line of lines) {
      const m = /^\+[\d.]+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line);
      if (m) (m[1] === "lua" ? script : client).add(m[2].toLowerCase());
    }
  });
  socket.write("MONITOR\r\n");
  await new Promise((resolve) => setTimeout(resolve, 50));
  try {
    await during();
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the last lines arrive
  } finally {
    socket.destroy();
  }
  return { client: [...client].sort(), script: [...script].sort() };
}

/** Every command Redis ran in `counts`, script-run ones included, minus the reader's own. */
export function serverCommands(counts: CommandCounts): number {
  return Object.entries(counts.byCommand)
    .filter(([name]) => !OWN.has(name))
    .reduce((n, [, calls]) => n + calls, 0);
}

/**
 * The client requests in `counts`. `scriptsCounted` is whether Redis counts
 * script-run commands (see {@linkcode scriptCommandGrowth}); `origins` the
 * lock's own calibration; `scriptOnly` the names every calibration saw only
 * inside scripts (for a name this lock's calibration happened not to see).
 */
export function clientRequests(
  counts: CommandCounts,
  scriptsCounted: boolean,
  origins: CommandOrigins,
  scriptOnly: ReadonlySet<string>,
): { requests: number; approx: boolean } {
  const own = Object.entries(counts.byCommand)
    .filter(([name]) => OWN.has(name))
    .reduce((n, [, calls]) => n + calls, 0);
  if (!scriptsCounted) return { requests: counts.total - own, approx: false };
  let requests = 0;
  let approx = false;
  for (const [name, calls] of Object.entries(counts.byCommand)) {
    if (OWN.has(name)) continue;
    const base = name.split("|")[0];
    const sent = origins.client.includes(base);
    const scripted = origins.script.includes(base);
    if (sent) {
      requests += calls;
      approx ||= scripted;
    } else if (!scripted && !scriptOnly.has(base)) {
      requests += calls;
    }
  }
  return { requests, approx };
}
