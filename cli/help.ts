/**
 * The `--help` texts of `redis-lock` and its subcommands.
 *
 * @module
 */

const REDIS = `Redis:
  --url <url>   redis:// or rediss:// URL; default $REDIS_URL, else redis://127.0.0.1:6379`;

/**
 * `redis-lock --help`.
 *
 * @example
 * ```ts
 * import { MAIN_HELP } from "./help.ts";
 *
 * console.log(MAIN_HELP);
 * ```
 */
export const MAIN_HELP: string = `redis-lock: flock(1) for a fleet of machines, on Redis.

Usage:
  redis-lock run [options] <name> -- <command> [args...]
  redis-lock status [--json] [--watch] <name>...
  redis-lock release --force <name>
  redis-lock <command> --help
  redis-lock --version

Commands:
  run       Wait for the lock <name>, run a command while holding it, release it
  status    Show who holds each <name>, since when, for how much longer, and who waits
  release   Take a stuck lock from its holder (needs --force) and wake its waiters

${REDIS}

Examples:
  redis-lock run deploy -- ./deploy.sh production
  redis-lock run --wait 0 nightly-report -- /usr/local/bin/report.sh
  redis-lock status deploy
`;

/**
 * `redis-lock run --help`.
 *
 * @example
 * ```ts
 * import { RUN_HELP } from "./help.ts";
 *
 * console.log(RUN_HELP);
 * ```
 */
export const RUN_HELP: string = `Usage: redis-lock run [options] <name> -- <command> [args...]

Waits for the lock <name>, runs <command> while holding it (renewing the
lease), releases it when the command ends, and exits with the command's exit
code. Machines that share the Redis server take turns.

No process of the command runs without the lock: the command runs in a
process group of its own, and its whole group is stopped (SIGTERM, then
SIGKILL after --kill-after) when the lock is lost or revoked by release
--force, before its lease could end when renewals fail, when the command
exits leaving processes behind (before the release), and, through a
watchdog, when redis-lock itself is killed.

Options:
  -w, --wait <duration>     How long to wait for the lock; 0 = one try (default: forever)
  --ttl <duration>          Lease: how long the lock outlives a crashed redis-lock
                            (default 30s, at least 1s)
  -E, --conflict-exit-code <code>
                            Exit code when the lock was not acquired in time (default 75;
                            it changes only that code)
  --kill-after <duration>   SIGKILL this long after SIGTERM whenever the command is stopped
                            (default 10s, less for a short --ttl; at most ttl - margin - 150ms)
  --foreground              Keep the command in the terminal's foreground group (interactive
                            programs); then only its own process is signalled
  --fencing                 Pass a fencing token in $REDIS_LOCK_FENCING_TOKEN (without it,
                            that variable is removed)
  --spin                    Wait by polling (RedisSpinLock) instead of Pub/Sub
  --no-fair                 Race for the lock instead of queueing (fair mode is the default)
  -n, --limit <N>           Hold one of N permits of the semaphore <name> (RedisSemaphore):
                            up to N runs at once; not with --spin or --fencing
  -q, --quiet               No status line while waiting, no message when busy
  -h, --help                Show this help
${REDIS}

Durations: 500ms, 30s, 5m, 1h, or a plain number of milliseconds.

Lease bound: with --ttl T and --kill-after K, if no renewal succeeds, the
command gets SIGTERM at T-M-K after the last renewal Redis confirmed and
SIGKILL at T-M (M = T/10, from 100ms to 1s): it is dead before the lease ends.

Signals: SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM and
SIGWINCH are passed on to the command's group, once (Ctrl-C reaches only
redis-lock, which passes it on); none opens a debugger. Ctrl-Z stops the
command with redis-lock. While still connecting or waiting, a signal stops
the wait (exit 128+n). Under systemd, use KillMode=mixed.

Exit codes:
  <code>   the command's exit code (128+n when signal n ended it)
  2        bad usage
  69       Redis could not be reached or failed
  75       the lock was not acquired within --wait (change it with -E)
  76       the lock was lost, revoked, or not renewed in time; the command was stopped
  126      the command could not be executed
  127      the command was not found
  128+n    signal n while connecting or waiting; the lock was not taken:
  129      SIGHUP
  130      SIGINT (Ctrl-C)
  131      SIGQUIT
  143      SIGTERM

Examples:
  redis-lock run deploy -- ./deploy.sh production
  redis-lock run --wait 0 nightly-report -- /usr/local/bin/report.sh
  redis-lock run --wait 5m --ttl 10s --fencing migrate -- sh -c 'migrate --fence "$REDIS_LOCK_FENCING_TOKEN"'
  redis-lock run --foreground db-console -- psql production
`;

/**
 * `redis-lock status --help`.
 *
 * @example
 * ```ts
 * import { STATUS_HELP } from "./help.ts";
 *
 * console.log(STATUS_HELP);
 * ```
 */
export const STATUS_HELP: string = `Usage: redis-lock status [options] <name>...

Shows, for each lock <name>: whether it is held; who holds it (host, pid,
runtime and label as the holder recorded them), for how long it has held it
and the lease left; how many wait, and who is queued, oldest first, with how
long each has waited; the last fencing token handed out; and the holders and
waiters of the semaphore <name> (run --limit) when it has any. Exits 0
whether held or free.

Options:
  --json            One JSON object per line and name: {"name", "key", "held",
                    "remaining" (ms, null without expiry), "waiters",
                    "fencingToken" (null if none), "holders": [{"token",
                    "identity", "acquiredAt", "age", "leaseLeft", "fencingToken"}],
                    "queue": [{"token", "identity", "waited"}]}, and "semaphore":
                    {"key", "holders", "leases" (ms left each), "waiters"} when a
                    semaphore <name> has holders or waiters
  --watch           Show it again every second, redrawn in place on a terminal,
                    until Ctrl-C (then exit 0)
  --prefix <text>   The applications' key prefix (the library's prefix option;
                    default: lock: for a lock, none before sem: for a semaphore)
  -h, --help        Show this help
${REDIS}

Examples:
  redis-lock status deploy backup
  redis-lock status --watch deploy
  redis-lock status --json deploy | jq .holders[0].identity
`;

/**
 * `redis-lock release --help`.
 *
 * @example
 * ```ts
 * import { RELEASE_HELP } from "./help.ts";
 *
 * console.log(RELEASE_HELP);
 * ```
 */
export const RELEASE_HELP: string = `Usage: redis-lock release --force <name>

Takes the lock <name> from its holder, for an operator whose holder is stuck.
A redis-lock run that holds it is asked to stop its command (SIGTERM, SIGKILL
after its --kill-after) and let go; release waits for that, so no waiter's
command starts beside the old one. If no redis-lock run answers within 2s, or
it has not let go by its --kill-after plus 7s, the key is deleted and the
waiters are woken. Without --force it refuses (exit 2). Exits 0, also when
the lock was free.

Options:
  --force       Really take the lock away
  -h, --help    Show this help
${REDIS}

Example:
  redis-lock release --force deploy
`;
