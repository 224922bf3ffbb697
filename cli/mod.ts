/**
 * `redis-lock`: flock(1) for a fleet of machines. Runs a command while
 * holding a Redis lock, so that machines sharing a Redis server take turns;
 * shows a lock's state; deletes a stuck one.
 *
 * ```sh
 * redis-lock run [options] <name> -- <command> [args...]
 * redis-lock status [--json] <name>
 * redis-lock release --force <name>
 * redis-lock <command> --help
 * ```
 *
 * `run` waits for the lock (Pub/Sub, or polling with `--spin`), runs the
 * command with the lease renewed while it runs, releases the lock when the
 * command ends, and exits with the command's exit code. No process of the
 * command runs without the lock: it runs in a process group of its own,
 * which is stopped (SIGTERM, then SIGKILL after `--kill-after`) when the
 * lock is lost or revoked, before its lease could end, when the command
 * leaves processes behind, and, through a watchdog, when `redis-lock` is
 * killed. It exits with 75 when the lock is not acquired within `--wait`
 * (`-E` changes it), and with 76 when the command was stopped for the
 * lock's sake. Signals are passed on to the command's group, once. Redis is
 * `--url`, else `$REDIS_URL`, else `redis://127.0.0.1:6379`.
 *
 * @example Run it, or install it for production (no wrapper in between)
 * ```sh
 * deno run -A jsr:@x/redis-lock-cli run --wait 0 nightly-report -- /usr/local/bin/report.sh
 * deno install -g -A -n redis-lock jsr:@x/redis-lock-cli
 * deno compile -A -o redis-lock jsr:@x/redis-lock-cli
 * ```
 *
 * @module
 */

import "./guard.ts"; // first of all: SIGUSR1 must never open a debugger
import process from "node:process";
import { main } from "./main.ts";

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Everything is closed by now, so the process ends by itself; should a
// connection linger, this timer (which does not keep the process alive) ends it.
const timer = setTimeout(() => process.exit(code), 2_000);
if (typeof timer === "number") {
  (globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno?.unrefTimer(timer);
} else {
  (timer as { unref?(): void }).unref?.();
}
