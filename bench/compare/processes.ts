/**
 * The multi-process scenario: P worker processes (`worker.ts`), one
 * contender each, on one lock name and one window, so that no two waiters
 * share an event loop, a connection or a subscriber, as across machines.
 * This process only starts the window and reads Redis's counters.
 *
 * The workers are started once and serve every run (a Deno process with
 * the client libraries takes a while to start on a loaded machine); a run
 * that fails kills them all, and the next run starts fresh ones.
 *
 * Exclusion across the processes does not rely on Redis: every acquisition
 * carries its enter and release times on {@linkcode clock}, which all
 * processes share, and `summarise()` checks that, sorted by time, no
 * acquisition begins before the previous holder called release().
 *
 * @module
 */

import type { LockSpec } from "./locks.ts";
import { clock, type RawRun } from "./run.ts";
import type { GoOrder, OpenOrder } from "./worker.ts";

const WORKER = new URL("./worker.ts", import.meta.url).pathname;
const ROOT = new URL("../..", import.meta.url).pathname;
/** How long a worker may take beyond the window to report (the floor waits up to 10 s). */
const GRACE_MS = 60_000;
/** How long a worker may take to exit once told to. */
const EXIT_MS = 5_000;

/** Hooks of the caller around the window. */
export interface WindowHooks<T> {
  /** Called alongside the window with its start and end; its result is returned as `atEnd`. */
  duringWindow(windowStart: number, windowEnd: number): Promise<T>;
}

/** Reads stdout line by line, keeping only the lines with the protocol's prefixes. */
async function* protocolLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    const lines = buffer.split("\n");
    buffer = lines.pop()!;
    for (const line of lines) if (/^(READY|RESULT |ERROR )/.test(line)) yield line;
  }
}

/** One worker process and its two pipes. */
class Worker {
  readonly #child: Deno.ChildProcess;
  readonly #lines: AsyncGenerator<string>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;

  constructor() {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", WORKER],
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#lines = protocolLines(this.#child.stdout);
    this.#stdin = this.#child.stdin.getWriter();
  }

  async send(verb: "open" | "go", order: OpenOrder | GoOrder): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(`${verb} ${JSON.stringify(order)}\n`));
  }

  /** The next protocol line, which must start with `expected`; rejects after `timeoutMs`. */
  async next(expected: string, timeoutMs: number): Promise<string> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`worker: no ${expected} in time`)), timeoutMs);
    });
    try {
      const { value, done } = await Promise.race([this.#lines.next(), late]);
      if (done || !value.startsWith(expected)) {
        throw new Error(`worker: expected ${expected}, got ${done ? "end of output" : value}`);
      }
      return value.slice(expected.length);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes stdin (the worker exits when it sees the end); kills it if `force` or after 5 s. */
  async stop(force: boolean): Promise<void> {
    await this.#stdin.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const kill = () => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* already exited */ }
    };
    if (force) kill();
    else timer = setTimeout(kill, EXIT_MS);
    await this.#child.status;
    clearTimeout(timer);
    await this.#lines.return(undefined);
  }
}

/** A pool of workers, grown on demand. */
export class WorkerPool {
  #workers: Worker[] = [];

  /**
   * Runs one window with `processes` workers, one contender each: they open
   * and warm up, then start together at a common {@linkcode clock} time.
   */
  async run<T>(
    spec: LockSpec,
    url: string,
    name: string,
    processes: number,
    holdMs: number,
    seconds: number,
    hooks: WindowHooks<T>,
    limit = 1,
    warmup = 0,
  ): Promise<{ runs: RawRun[]; atEnd: T }> {
    while (this.#workers.length < processes) this.#workers.push(new Worker());
    const workers = this.#workers.slice(0, processes);
    try {
      const open: OpenOrder = { lock: spec.id, url, name, contenders: 1 };
      await Promise.all(workers.map((w) => w.send("open", open)));
      await Promise.all(workers.map((w) => w.next("READY", GRACE_MS)));
      const startAt = clock() + 300 + warmup * 1000;
      const go: GoOrder = { startAt, holdMs, seconds, limit, warmup };
      await Promise.all(workers.map((w) => w.send("go", go)));
      const [runs, atEnd] = await Promise.all([
        Promise.all(workers.map(async (w) => {
          const json = await w.next("RESULT ", seconds * 1000 + GRACE_MS);
          return JSON.parse(json) as RawRun;
        })),
        hooks.duringWindow(startAt, startAt + seconds * 1000),
      ]);
      return { runs, atEnd };
    } catch (err) {
      await this.close(true);
      throw err;
    }
  }

  /** Stops every worker: lets them exit, or kills them if `force`. */
  async close(force = false): Promise<void> {
    const workers = this.#workers;
    this.#workers = [];
    await Promise.allSettled(workers.map((w) => w.stop(force)));
  }
}
