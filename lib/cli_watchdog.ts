/**
 * The watchdog of `redis-lock run`: a tiny `/bin/sh` process that stops the
 * command when `redis-lock` dies, however it dies (SIGKILL, the OOM killer,
 * a crash). It reads a pipe whose write end only `redis-lock` holds; at
 * end-of-file it sends the command's process group SIGTERM (and SIGCONT, in
 * case it was stopped), then SIGKILL after the grace period. It runs in a
 * session of its own and ignores every signal a terminal or `kill` would
 * send, so it cannot die with `redis-lock`.
 *
 * Lines `redis-lock` writes to it:
 * - `arm <target>`: what to stop (`-<pgid>`, or a pid with `--foreground`);
 * - `stop <seconds>`: `redis-lock` has started stopping the command; SIGKILL
 *   it after this long even if `redis-lock` dies meanwhile;
 * - `disarm`: the command is gone; exit without signalling anyone.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { killArgument, type Target } from "./cli_group.ts";

/**
 * The watchdog, in POSIX sh. $1: the grace in seconds (shown by ps); $2:
 * how many 50 ms looks fit in it. `running` is true while a process of the target that is
 * not a zombie remains (kill -0 alone counts zombies, which a PID 1 that
 * never reaps leaves behind).
 */
const SCRIPT = `
trap '' HUP INT QUIT TERM USR1 USR2 ALRM TSTP TTIN TTOU PIPE WINCH
polls=$2 target= killer= disarmed=
running() {
  kill -s 0 -- "$target" 2>/dev/null || return 1
  [ -r /proc/self/stat ] || return 0
  for f in /proc/[0-9]*/stat; do
    { IFS= read -r line < "$f"; } 2>/dev/null || continue
    set -- \${line##*) }
    case $target in
      -*) [ "$3" = "\${target#-}" ] || continue ;;
      *) [ "$f" = "/proc/$target/stat" ] || continue ;;
    esac
    [ "$1" = Z ] || [ "$1" = X ] || return 0
  done
  return 1
}
while IFS= read -r line; do
  case $line in
    "arm "*) target=\${line#arm } ;;
    "stop "*)
      if [ -n "$target" ] && [ -z "$killer" ]; then
        ( sleep "\${line#stop }"; kill -s KILL -- "$target" ) 2>/dev/null &
        killer=$!
      fi ;;
    disarm) disarmed=1; break ;;
  esac
done
if [ -n "$disarmed" ]; then
  [ -z "$killer" ] || kill -s KILL "$killer" 2>/dev/null
  exit 0
fi
[ -n "$target" ] || exit 0
kill -s TERM -- "$target" 2>/dev/null || exit 0
kill -s CONT -- "$target" 2>/dev/null
i=0
while [ "$i" -lt "$polls" ] && running; do sleep 0.05; i=$((i+1)); done
running && kill -s KILL -- "$target" 2>/dev/null
exit 0
`;

/**
 * A running watchdog; see the module doc.
 *
 * @example
 * ```ts
 * import { startWatchdog } from "./cli_watchdog.ts";
 *
 * const watchdog = startWatchdog(10_000);
 * watchdog.arm({ pid: 4242, group: true });
 * await watchdog.disarm();
 * ```
 */
export interface Watchdog {
  /** The watchdog's pid (for tests and messages). */
  readonly pid: number | undefined;
  /** Names what to stop should `redis-lock` die. */
  arm(target: Target): void;
  /** `redis-lock` is stopping the command: SIGKILL it `ms` from now in any case. */
  stopBy(ms: number): void;
  /** The command is gone: the watchdog exits without signalling. Resolves once it has. */
  disarm(): Promise<void>;
}

/** Seconds for sleep(1), with ms precision. */
function seconds(ms: number): string {
  return (Math.max(0, ms) / 1_000).toFixed(3);
}

/**
 * Starts the watchdog. Until `arm()` it guards nothing.
 *
 * @param killAfter The grace between SIGTERM and SIGKILL, in ms.
 * @returns The watchdog.
 * @throws {Error} When `/bin/sh` cannot be started.
 *
 * @example
 * ```ts
 * import { startWatchdog } from "./cli_watchdog.ts";
 *
 * const watchdog = startWatchdog(5_000);
 * await watchdog.disarm();
 * ```
 */
export function startWatchdog(killAfter: number): Watchdog {
  const polls = Math.ceil(Math.max(0, killAfter) / 50);
  // detached: its own session, so a terminal's signals to redis-lock's group miss it.
  const child: ChildProcess = spawn(
    "/bin/sh",
    ["-c", SCRIPT, "redis-lock-watchdog", seconds(killAfter), `${polls}`],
    { stdio: ["pipe", "ignore", "ignore"], detached: true },
  );
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  child.stdin!.on("error", () => {}); // EPIPE if it was killed: nothing more to tell it
  const write = (line: string) => {
    if (child.stdin!.writable) child.stdin!.write(`${line}\n`);
  };
  let disarmed: Promise<void> | undefined;
  return {
    get pid() {
      return child.pid;
    },
    arm(target) {
      write(`arm ${killArgument(target)}`);
    },
    stopBy(ms) {
      write(`stop ${seconds(ms)}`);
    },
    disarm() {
      disarmed ??= (async () => {
        write("disarm");
        child.stdin!.end();
        if (child.exitCode === null && child.signalCode === null) await exited;
      })();
      return disarmed;
    },
  };
}
