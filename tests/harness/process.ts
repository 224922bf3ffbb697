/** Runs a TypeScript file in a child process of the runtime running the tests. */

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

/** The command that runs `script` on this runtime (Deno, Bun, or Node with tsx). */
export function runtimeCommand(script: string): [string, string[]] {
  const path = fileURLToPath(new URL(`../${script}`, import.meta.url)); // relative to tests/
  if ("Deno" in globalThis) return [process.execPath, ["run", "-A", path]];
  if ("Bun" in globalThis) return [process.execPath, ["run", path]];
  return [process.execPath, ["--import", "tsx", path]];
}

/** A child process with its output collected. */
export interface Child {
  readonly process: ChildProcess;
  /** stdout so far. */
  output(): string;
  /** Resolves once stdout contains `text`. */
  waitFor(text: string): Promise<void>;
  /** Resolves with the exit code (or signal name) once the child has exited. */
  readonly exited: Promise<number | string>;
}

/** Starts `script` (relative to tests/) with `args`. */
export function startChild(script: string, args: string[] = []): Child {
  const [cmd, base] = runtimeCommand(script);
  const child = spawn(cmd, [...base, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const watchers: Array<() => void> = [];
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    for (const w of watchers) w();
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => err += chunk);
  const exited = once(child, "exit").then(([code, signal]) => {
    for (const w of watchers) w();
    return (code ?? signal) as number | string;
  });
  return {
    process: child,
    output: () => out,
    exited,
    waitFor: (text) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (out.includes(text)) resolve();
          else if (child.exitCode !== null || child.signalCode !== null) {
            reject(new Error(`child exited without printing ${text}:\n${out}\n${err}`));
          }
        };
        watchers.push(check);
        check();
      }),
  };
}
