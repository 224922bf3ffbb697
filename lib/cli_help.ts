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
 * import { MAIN_HELP } from "./cli_help.ts";
 *
 * console.log(MAIN_HELP);
 * ```
 */
export const MAIN_HELP: string = `redis-lock: flock(1) for a fleet of machines, on Redis.

Usage:
  redis-lock run [options] <name> -- <command> [args...]
  redis-lock status [--json] <name>
  redis-lock release --force <name>
  redis-lock <command> --help

Commands:
  run       Wait for the lock <name>, run a command while holding it, release it
  status    Show whether <name> is held, for how much longer, and who waits
  release   Delete a stuck lock (needs --force) and wake its waiters

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
 * import { RUN_HELP } from "./cli_help.ts";
 *
 * console.log(RUN_HELP);
 * ```
 */
export const RUN_HELP: string = `Usage: redis-lock run [options] <name> -- <command> [args...]

Waits for the lock <name>, runs <command> while holding it (renewing the
lease), releases it when the command ends, and exits with the command's exit
code. Machines that share the Redis server take turns.

Options:
  -w, --wait <duration>     How long to wait for the lock; 0 = one try (default: forever)
  --ttl <duration>          Lease: how long the lock outlives a crashed redis-lock
                            (default 30s; renewed every ttl/3 while the command runs)
  -E, --conflict-exit-code <code>
                            Exit code when the lock was not acquired in time (default 75)
  --kill-after <duration>   After the lock is lost: SIGTERM, then SIGKILL this much
                            later (default 10s)
  --fencing                 Pass a fencing token in $REDIS_LOCK_FENCING_TOKEN
  --spin                    Wait by polling (RedisSpinLock) instead of Pub/Sub
  --no-fair                 Race for the lock instead of queueing (fair mode is the default)
  -q, --quiet               No status line while waiting, no message when busy
  -h, --help                Show this help
${REDIS}

Durations: 500ms, 30s, 5m, 1h, or a plain number of milliseconds.

Signals: SIGINT, SIGTERM and SIGHUP are passed on to the command; the lock is
released when it ends. While still waiting, they stop the wait (exit 128+n).

Exit codes:
  <code>   the command's exit code (128+n when signal n ended it)
  75       the lock was not acquired within --wait (change it with -E)
  76       the lock was lost while the command ran; the command was stopped
  69       Redis could not be reached or failed
  2        bad usage
  126/127  the command could not be executed / was not found
  130/143  SIGINT/SIGTERM while waiting; the lock was not taken

Examples:
  redis-lock run deploy -- ./deploy.sh production
  redis-lock run --wait 0 nightly-report -- /usr/local/bin/report.sh
  redis-lock run --wait 5m --ttl 10s --fencing migrate -- sh -c 'migrate --fence "$REDIS_LOCK_FENCING_TOKEN"'
`;

/**
 * `redis-lock status --help`.
 *
 * @example
 * ```ts
 * import { STATUS_HELP } from "./cli_help.ts";
 *
 * console.log(STATUS_HELP);
 * ```
 */
export const STATUS_HELP: string = `Usage: redis-lock status [--json] <name>

Shows whether the lock <name> is held, the lease left to its holder (PTTL),
how many processes wait for it (connections subscribed to its channel), and
the last fencing token handed out. Exits 0 whether held or free.

Options:
  --json        One JSON object: {"name", "key", "held", "remaining" (ms, null
                without expiry), "waiters", "fencingToken" (null if none)}
  -h, --help    Show this help
${REDIS}

Examples:
  redis-lock status deploy
  redis-lock status --json deploy | jq .remaining
`;

/**
 * `redis-lock release --help`.
 *
 * @example
 * ```ts
 * import { RELEASE_HELP } from "./cli_help.ts";
 *
 * console.log(RELEASE_HELP);
 * ```
 */
export const RELEASE_HELP: string = `Usage: redis-lock release --force <name>

Deletes the lock <name> whoever holds it, and wakes its waiters: for an
operator, when a holder is stuck. A redis-lock run that held it finds out at
its next renewal (within a third of its --ttl) and stops its command (exit 76).
Without --force it refuses (exit 2). Exits 0, also when the lock was free.

Options:
  --force       Really delete the lock
  -h, --help    Show this help
${REDIS}

Example:
  redis-lock release --force deploy
`;
