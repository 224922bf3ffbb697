/**
 * Starting the command of `redis-lock run` behind a gate, and the two
 * questions around it: can the program be run at all (asked before anything
 * starts, so that redis-lock reports it in its own words), and is every
 * process of its group gone.
 *
 * The gate is `/bin/sh` that waits for a line on fd 3 and, if the line is
 * `go`, closes fd 3 and `exec`s the command in place (same pid). So the
 * command's process, and with it its group, exists before the command runs:
 * the watchdog is armed with it first, and if `redis-lock` dies before `go`
 * the gate reads end-of-file and exits without running anything.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { EXIT_CODES, printError } from "./cli_exit.ts";
import { formatDuration } from "./cli_duration.ts";
import { isRunning, type Target } from "./cli_group.ts";

/** The gate: waits for "go" on fd 3, closes it, and becomes the command. */
const GATE = `IFS= read -r go <&3; exec 3<&-; [ "$go" = go ] || exit 0; exec "$@"`;

/** How long to wait for processes to vanish after SIGKILL before giving up. */
export const AFTER_KILL_MS = 2_000;

/**
 * A command started behind its gate; see the module doc.
 *
 * @example
 * ```ts
 * import type { Gated } from "./cli_spawn.ts";
 *
 * declare const gated: Gated;
 * gated.open(true);
 * ```
 */
export interface Gated {
  /** The gate's process, which becomes the command's. */
  readonly child: ChildProcess;
  /** Lets the command run (`true`), or makes the gate exit without running it. */
  open(go: boolean): void;
}

/**
 * Starts `command` behind a gate.
 *
 * @param command The program and its arguments.
 * @param env The command's whole environment.
 * @param detached Whether the command leads a session and process group of its own.
 * @returns The gate; call `open()` once.
 * @throws {Error} When `/bin/sh` cannot be started synchronously.
 *
 * @example
 * ```ts
 * import { spawnGated } from "./cli_spawn.ts";
 *
 * const gated = spawnGated(["echo", "hi"], { PATH: "/usr/bin:/bin" }, true);
 * gated.open(true);
 * ```
 */
export function spawnGated(
  command: readonly string[],
  env: Readonly<Record<string, string>>,
  detached: boolean,
): Gated {
  const child = spawn("/bin/sh", ["-c", GATE, "redis-lock", ...command], {
    stdio: ["inherit", "inherit", "inherit", "pipe"],
    env,
    detached,
  });
  const gate = child.stdio[3] as Writable | null;
  gate?.on("error", () => {}); // the gate died: its exit is on its way
  return {
    child,
    open(go) {
      gate?.end(go ? "go\n" : "");
    },
  };
}

/**
 * Waits until no process of the group runs; gives up (with one line on
 * stderr) {@linkcode AFTER_KILL_MS} after SIGKILL.
 *
 * @param target The command's group.
 * @param killedAt When SIGKILL was sent, if it was.
 *
 * @example
 * ```ts
 * import { gone } from "./cli_spawn.ts";
 *
 * await gone({ pid: 4242, group: true }, () => undefined);
 * ```
 */
export async function gone(target: Target, killedAt: () => number | undefined): Promise<void> {
  while (isRunning(target)) {
    const since = killedAt();
    if (since !== undefined && performance.now() - since > AFTER_KILL_MS) {
      printError(
        `processes of the command's group are still there ${formatDuration(AFTER_KILL_MS)} ` +
          "after SIGKILL (stuck in the kernel?); releasing the lock anyway",
      );
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Looks the program up as execvp(3) would (in `PATH` unless it holds a
 * slash), so that a missing or unusable program is reported in redis-lock's
 * words before anything is started.
 *
 * @param program The program as given.
 * @param path The command's `PATH`.
 * @returns The exit code and reason when it cannot be run; `undefined` when it can.
 *
 * @example
 * ```ts
 * import { findProgram } from "./cli_spawn.ts";
 *
 * console.log(findProgram("no-such-program", "/usr/bin")); // { code: 127, message: "not found" }
 * ```
 */
export function findProgram(
  program: string,
  path: string | undefined,
): { code: number; message: string } | undefined {
  // An execute bit is enough here (access(2) would need Deno's --allow-sys):
  // the gate's own exec reports what this cannot see, as 126 or 127.
  const check = (file: string): "ok" | "missing" | "denied" => {
    try {
      const stat = statSync(file);
      return !stat.isDirectory() && (stat.mode & 0o111) !== 0 ? "ok" : "denied";
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "ENOENT" || code === "ENOTDIR") return "missing";
      return code === "EACCES" ? "denied" : "ok";
    }
  };
  const notFound = { code: EXIT_CODES.notFound, message: "not found" };
  const denied = { code: EXIT_CODES.cannotExecute, message: "permission denied" };
  if (program === "") return notFound;
  if (program.includes("/")) {
    const found = check(program);
    return found === "ok" ? undefined : found === "missing" ? notFound : denied;
  }
  let sawDenied = false;
  for (const dir of (path ?? "/usr/local/bin:/usr/bin:/bin").split(":")) {
    const found = check(join(dir || ".", program));
    if (found === "ok") return undefined;
    if (found === "denied") sawDenied = true;
  }
  return sawDenied ? denied : notFound;
}
