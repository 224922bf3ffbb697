/**
 * The 2-process run: this process runs half the contenders, a child
 * (`worker.ts`) the other half, on the same lock name and the same
 * window, so that a lock is not flattered by all its waiters sharing one
 * event loop (and one subscriber connection, for `RedisLock`).
 *
 * Exclusion across the processes does not rely on Redis: every acquisition
 * carries its enter and release times on {@linkcode clock}, which both
 * processes share, and `summarise()` checks that, sorted by time, no
 * acquisition begins before the previous holder called release().
 *
 * @module
 */

import type { LockSpec } from "./locks.ts";
import { clock, closeContenders, openContenders, type RawRun, runWindow, warmUp } from "./run.ts";
import type { WorkerPlan } from "./worker.ts";

const WORKER = new URL("./worker.ts", import.meta.url).pathname;
const ROOT = new URL("../..", import.meta.url).pathname;

/** Hooks of the caller around the window. */
export interface WindowHooks<T> {
  /** Called when both processes are ready, just before the window is set. */
  beforeStart(): Promise<void>;
  /** Called alongside the window, with its end; its result is returned as `atEnd`. */
  duringWindow(windowEnd: number): Promise<T>;
}

/** Reads stdout line by line, keeping only the lines with the protocol's prefixes. */
async function* protocolLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    const lines = buffer.split("\n");
    buffer = lines.pop()!;
    for (const line of lines) if (/^(READY|RESULT )/.test(line)) yield line;
  }
}

async function next(lines: AsyncGenerator<string>, expected: string): Promise<string> {
  const { value, done } = await lines.next();
  if (done || !value.startsWith(expected)) {
    throw new Error(`worker: expected ${expected}, got ${done ? "end of output" : value}`);
  }
  return value;
}

/** Runs `contenders` split over this process and a child; returns both records. */
export async function runTwoProcesses<T>(
  spec: LockSpec,
  url: string,
  name: string,
  contenders: number,
  holdMs: number,
  seconds: number,
  hooks: WindowHooks<T>,
): Promise<{ runs: RawRun[]; atEnd: T }> {
  const half = Math.floor(contenders / 2);
  const plan: WorkerPlan = {
    lock: spec.id,
    url,
    name,
    contenders: contenders - half,
    holdMs,
    seconds,
  };
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WORKER, JSON.stringify(plan)],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const status = child.status;
  const lines = protocolLines(child.stdout);
  const own = await openContenders(spec, url, name, half);
  try {
    await Promise.all([warmUp(own), next(lines, "READY")]);
    await hooks.beforeStart();
    const startAt = clock() + 200;
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(`go ${startAt}\n`));
    await writer.close();
    const end = startAt + seconds * 1000;
    const [mine, atEnd] = await Promise.all([
      runWindow(own, holdMs, startAt, seconds),
      hooks.duringWindow(end),
    ]);
    const theirs = JSON.parse((await next(lines, "RESULT ")).slice("RESULT ".length)) as RawRun;
    const { code } = await status;
    if (code !== 0) throw new Error(`worker exited with code ${code}`);
    return { runs: [mine, theirs], atEnd };
  } finally {
    await closeContenders(own);
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await status;
    await lines.return(undefined);
  }
}
