/**
 * The `redis-lock` command: picks the subcommand, prints the top-level help,
 * and turns errors into one line on stderr and an exit code.
 *
 * @module
 */

import process from "node:process";
import { UsageError } from "./args.ts";
import { EXIT_CODES, messageOf, printError } from "./exit.ts";
import { MAIN_HELP, RELEASE_HELP, RUN_HELP, STATUS_HELP } from "./help.ts";
import { releaseCli } from "./release.ts";
import { runCli } from "./run.ts";
import { statusCli } from "./status.ts";
import meta from "./deno.json" with { type: "json" };

/**
 * The command's version: the `version` of its package's `deno.json`.
 *
 * @example
 * ```ts
 * import { VERSION } from "./main.ts";
 *
 * console.log(`redis-lock ${VERSION}`);
 * ```
 */
export const VERSION: string = meta.version;

type Subcommand = (
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
) => Promise<number>;

const SUBCOMMANDS: Readonly<Record<string, { run: Subcommand; help: string }>> = {
  run: { run: runCli, help: RUN_HELP },
  status: { run: statusCli, help: STATUS_HELP },
  release: { run: releaseCli, help: RELEASE_HELP },
};

/**
 * Runs `redis-lock` with `args` (the arguments after the program name) and
 * resolves with the exit code. Output goes to the process's stdout and
 * stderr; bad usage is one line on stderr and exit code 2, a Redis failure
 * one line and 69.
 *
 * @param args The command line, without the runtime and script.
 * @param env The environment (for `REDIS_URL`). @default {process.env}
 * @returns The exit code.
 *
 * @example Show a lock's state from a script
 * ```ts
 * import { main } from "./main.ts";
 *
 * const code = await main(["status", "--json", "deploy"]);
 * console.log("exit code", code);
 * ```
 */
export async function main(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const [name, ...rest] = args;
  try {
    if (name === undefined) throw new UsageError("", "missing the command: run, status or release");
    if (name === "--version" || name === "-V") {
      if (rest.length > 0) {
        throw new UsageError("", `unexpected argument ${JSON.stringify(rest[0])}`);
      }
      process.stdout.write(`redis-lock ${VERSION}\n`);
      return 0;
    }
    if (name === "--help" || name === "-h" || name === "help") {
      const help = rest.length === 0 ? MAIN_HELP : SUBCOMMANDS[rest[0]]?.help;
      if (help === undefined) {
        throw new UsageError("", `unknown command ${JSON.stringify(rest[0])}`);
      }
      process.stdout.write(help);
      return 0;
    }
    const subcommand = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
    if (!subcommand) {
      const what = name.startsWith("-") ? "option" : "command";
      throw new UsageError(
        "",
        `unknown ${what} ${JSON.stringify(name)}; use run, status or release`,
      );
    }
    return await subcommand.run(rest, env);
  } catch (err) {
    if (err instanceof UsageError) {
      const where = err.command === "" ? "redis-lock" : `redis-lock ${err.command}`;
      process.stderr.write(`${where}: ${err.message} (see ${where} --help)\n`);
      return EXIT_CODES.usage;
    }
    printError(messageOf(err));
    return EXIT_CODES.unavailable;
  }
}
