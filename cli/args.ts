/**
 * The `redis-lock` argument parser, by hand and without dependencies: long
 * flags (`--ttl 5s`, `--ttl=5s`), short ones (`-E 3`, `-E3`), `--` to end the
 * options. Every problem is a {@linkcode UsageError}, which exits with 2.
 *
 * @module
 */

import { parseDuration } from "./duration.ts";

/**
 * A mistake on the command line: an unknown flag, a bad value, a missing
 * argument. `redis-lock` prints its message on one line and exits with 2.
 *
 * @example
 * ```ts
 * import { UsageError } from "./args.ts";
 *
 * const err = new UsageError("status", "missing the lock name");
 * console.log(err.command, err.message);
 * ```
 */
export class UsageError extends Error {
  /** The subcommand whose arguments were wrong (`run`, ...), or "" for none. */
  readonly command: string;

  /**
   * Creates the error.
   * @param command The subcommand, or "" at the top level.
   * @param message What is wrong, in one line.
   */
  constructor(command: string, message: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/**
 * How a flag's value is read: `boolean` takes none; `duration` is read by
 * `parseDuration`; `exitCode` is an integer from 0 to 255.
 *
 * @example
 * ```ts
 * import type { FlagKind } from "./args.ts";
 *
 * const kind: FlagKind = "duration";
 * ```
 */
export type FlagKind = "boolean" | "string" | "duration" | "exitCode";

/**
 * One flag a subcommand accepts.
 *
 * @example
 * ```ts
 * import type { FlagSpec } from "./args.ts";
 *
 * const wait: FlagSpec = { name: "wait", short: "w", kind: "duration" };
 * ```
 */
export interface FlagSpec {
  /** The long name, without dashes: `wait` is `--wait`. */
  readonly name: string;
  /** A one-letter alias, without the dash: `w` is `-w`. */
  readonly short?: string;
  /** How the value is read. */
  readonly kind: FlagKind;
}

/**
 * What {@linkcode parseArgs} found.
 *
 * @example
 * ```ts
 * import type { ParsedArgs } from "./args.ts";
 *
 * const parsed: ParsedArgs = { flags: { json: true }, positionals: ["job"], rest: [] };
 * ```
 */
export interface ParsedArgs {
  /** Flag values by long name: `true` for booleans, ms for durations. */
  readonly flags: Readonly<Record<string, string | number | boolean>>;
  /** The arguments before the rest, in order. */
  readonly positionals: readonly string[];
  /** Everything after `--`, or from the argument after `maxPositionals` on. */
  readonly rest: readonly string[];
}

/**
 * Parses a subcommand's arguments. Flags may come anywhere before `--` or
 * the rest; `-h` and `--help` are always accepted (as `flags.help`).
 *
 * @param command The subcommand, for error messages.
 * @param args The arguments after the subcommand.
 * @param specs The flags the subcommand accepts.
 * @param maxPositionals How many positionals to take; the next argument and
 *   everything after it become `rest` (used by `run` for the command).
 * @returns Flags, positionals and rest.
 * @throws {UsageError} For an unknown flag, a missing or bad value.
 *
 * @example Parsing `redis-lock run` arguments
 * ```ts
 * import { parseArgs } from "./args.ts";
 *
 * const specs = [{ name: "wait", short: "w", kind: "duration" }] as const;
 * const parsed = parseArgs("run", ["-w", "5s", "job", "--", "make"], specs, 1);
 * console.log(parsed.flags.wait, parsed.positionals, parsed.rest); // 5000 ["job"] ["make"]
 * ```
 */
export function parseArgs(
  command: string,
  args: readonly string[],
  specs: readonly FlagSpec[],
  maxPositionals: number,
): ParsedArgs {
  const all = [...specs, { name: "help", short: "h", kind: "boolean" } as const];
  const flags: Record<string, string | number | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") return { flags, positionals, rest: args.slice(i + 1) };
    if (arg.length < 2 || !arg.startsWith("-")) {
      if (positionals.length === maxPositionals) return { flags, positionals, rest: args.slice(i) };
      positionals.push(arg);
      continue;
    }
    const long = arg.startsWith("--");
    const eq = long ? arg.indexOf("=") : -1;
    const written = long ? (eq < 0 ? arg : arg.slice(0, eq)) : arg.slice(0, 2);
    const spec = all.find((s) => long ? `--${s.name}` === written : `-${s.short}` === written);
    if (!spec) throw new UsageError(command, `unknown option ${long ? written : arg}`);
    let inline: string | undefined = long ? (eq < 0 ? undefined : arg.slice(eq + 1)) : arg.slice(2);
    if (!long && inline === "") inline = undefined;
    if (spec.kind === "boolean") {
      if (inline !== undefined) {
        throw new UsageError(command, long ? `${written} takes no value` : `unknown option ${arg}`);
      }
      flags[spec.name] = true;
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined) throw new UsageError(command, `${written} needs a value`);
    flags[spec.name] = readValue(command, written, spec.kind, value);
  }
  return { flags, positionals, rest: [] };
}

function readValue(command: string, flag: string, kind: FlagKind, value: string) {
  if (kind === "duration") {
    const ms = parseDuration(value);
    if (ms !== undefined) return ms;
    throw new UsageError(
      command,
      `${flag}: bad duration ${JSON.stringify(value)}; ` +
        "write ms, or a number with ms, s, m or h (500ms, 30s, 5m)",
    );
  }
  if (kind === "exitCode") {
    if (/^\d{1,3}$/.test(value) && Number(value) <= 255) return Number(value);
    throw new UsageError(command, `${flag}: bad exit code ${JSON.stringify(value)}; use 0 to 255`);
  }
  return value;
}
