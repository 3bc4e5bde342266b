/**
 * Argument parsing shared by the verbs, in runc's conventions (Go's flag
 * package): `--flag value`, `--flag=value`, `-flag value` and short `-b
 * value` / `-bvalue`; booleans also as `--flag=true|false` and grouped
 * shorts (`-af`); `--` ends the flags. Hand-written rather than node:util
 * parseArgs: the first `node:` import costs every verb about 13 ms, a
 * fifth of an empty `deno run` (BENCHMARKS.md).
 *
 * @module
 */
import { UsageError } from "../core/util/errors.ts";
import type { Access } from "../core/os/confinement.ts";
import {
  type FlagSpecs,
  type ParsedFlags,
  parseFlags,
} from "../core/util/flags.ts";

/** Global flags, parsed by cli.ts. */
export interface Globals {
  root?: string | undefined;
  log?: string | undefined;
  logFormat: "text" | "json";
  debug: boolean;
  sysroot?: string | undefined;
}

/** The global flags: runc's, some accepted and ignored. */
const GLOBAL_FLAGS: FlagSpecs = {
  root: { type: "string" },
  log: { type: "string" },
  "log-format": { type: "string" },
  sysroot: { type: "string" },
  debug: { type: "boolean" },
  version: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
  // accepted, ignored
  "systemd-cgroup": { type: "boolean" },
  "cgroup-manager": { type: "string" },
  rootless: { type: "string" },
  criu: { type: "string" },
};

/** Global flags, the verb and its arguments. */
export interface ParsedGlobals extends Globals {
  version: boolean;
  help: boolean;
  verb: string | undefined;
  rest: string[];
}

/**
 * Splits global flags from the verb and its arguments.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGlobals } from "./args.ts";
 *
 * const parsed = parseGlobals(["--root=/r", "-v", "state", "c1"]);
 * assert.equal(parsed.root, "/r");
 * assert.equal(parsed.version, true);
 * assert.equal(parsed.verb, "state");
 * assert.deepEqual(parsed.rest, ["c1"]);
 * ```
 *
 * @param argv The command line without the program name.
 * @returns Globals, verb and the verb's arguments.
 * @throws {UsageError} On an unknown flag or a bad value.
 */
export function parseGlobals(argv: string[]): ParsedGlobals {
  const { values, positionals } = parseFlags(argv, GLOBAL_FLAGS, {
    unknownHint: " (see --help)",
    stopAtPositional: true,
  });
  const logFormat = values["log-format"] ?? "text";
  if (logFormat !== "text" && logFormat !== "json") {
    throw new UsageError(
      `--log-format must be text or json, not ${JSON.stringify(logFormat)}`,
    );
  }
  const sysroot = values.sysroot ??
    (Deno.env.get("REMOTEPROC_RUNTIME_SYSROOT") || undefined);
  return {
    root: values.root as string | undefined,
    log: values.log as string | undefined,
    logFormat,
    debug: values.debug === true,
    sysroot: sysroot as string | undefined,
    version: values.version === true,
    help: values.help === true,
    verb: positionals[0],
    rest: positionals.slice(1),
  };
}

/** What a verb module gets. */
export interface VerbContext {
  /** Global flags. */
  globals: Globals;
  /** Arguments after the verb. */
  args: string[];
  /**
   * What the verb may touch once confined, from its entry in the verb table
   * (cli/verbs.ts), which cli.ts passes on; absent for an unconfined verb.
   */
  access?: Access | undefined;
}

/** Flags of a verb, by long name. */
export type VerbOptions = FlagSpecs;

/** Parsed flags and positional arguments. */
export type ParsedVerb = ParsedFlags;

/**
 * Parses a verb's arguments.
 *
 * @param verb The verb, for messages.
 * @param args Its arguments.
 * @param options Its flags.
 * @param positionals How many positional arguments it takes.
 * @returns Values and positionals.
 * @throws {UsageError} On an unknown flag, a missing or unexpected value, or
 * a wrong number of positionals.
 */
export function parseVerb(
  verb: string,
  args: string[],
  options: VerbOptions,
  positionals: { min: number; max: number },
): ParsedVerb {
  const parsed = parseFlags(args, options, {
    prefix: `${verb}: `,
    shorts: true,
  });
  const count = parsed.positionals.length;
  if (count < positionals.min) {
    throw new UsageError(
      positionals.min === 1 && positionals.max >= 1
        ? `${verb}: container id cannot be empty`
        : `${verb}: expects ${positionals.min} argument(s), got ${count}`,
    );
  }
  if (count > positionals.max) {
    throw new UsageError(
      `${verb}: unexpected argument ${
        JSON.stringify(parsed.positionals[positionals.max])
      }`,
    );
  }
  return parsed;
}

/**
 * Refuses a `--format` other than `table` and `json`.
 *
 * @param verb The verb, for the message.
 * @param format The value.
 * @throws {UsageError} For any other value.
 */
export function checkFormat(verb: string, format: unknown): void {
  if (format !== "table" && format !== "json") {
    throw new UsageError(
      `${verb}: invalid format option ${JSON.stringify(format)}`,
    );
  }
}

const encoder = new TextEncoder();

/**
 * Writes text to stdout (the CLI's only console output).
 *
 * @param text What to print; a newline is added.
 */
export function print(text: string): void {
  const data = encoder.encode(text + "\n");
  let written = 0;
  while (written < data.length) {
    written += Deno.stdout.writeSync(data.subarray(written));
  }
}

/**
 * Prints rows as runc prints `list`: each column padded to its widest cell
 * plus three spaces, the last column unpadded.
 *
 * @param rows The header row first, then one row per item.
 */
export function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) =>
    Math.max(...rows.map((r) => r[c]!.length))
  );
  for (const row of rows) {
    print(
      row.map((cell, c) =>
        c < row.length - 1 ? cell.padEnd(widths[c]! + 3) : cell
      ).join(""),
    );
  }
}
