/**
 * The one command-line flag parser, in runc's conventions (Go's flag
 * package): `--flag value`, `--flag=value`, `-flag value`; booleans also as
 * `--flag=true|false`; `--` ends the flags. With `shorts`, one-letter
 * aliases as `-b value`, `-bvalue` and grouped booleans (`-af`). The
 * global flags (cli.ts), each verb's (cli/args.ts) and the proxy's
 * (proxy.ts) go through it; only the launcher, a shell script, scans the
 * arguments itself.
 *
 * Hand-written rather than node:util parseArgs: the first `node:` import
 * costs every verb about 13 ms, a fifth of an empty `deno run`, and the
 * proxy about 1 MiB (BENCHMARKS.md).
 *
 * @module
 */
import { UsageError } from "./errors.ts";

/** One flag. */
export interface FlagSpec {
  /** A string flag takes a value; a boolean does not. */
  type: "string" | "boolean";
  /** A one-letter alias (`-b`). */
  short?: string;
  /** The value when the flag is absent. */
  default?: string;
}

/** Flags by long name. */
export type FlagSpecs = Record<string, FlagSpec>;

/** Parsed flags and positional arguments. */
export interface ParsedFlags {
  /** Values by long name: strings, or true/false for booleans. */
  values: Record<string, string | boolean | undefined>;
  /** The positional arguments (with `stopAtPositional`: the first and all after it). */
  positionals: string[];
}

/** How to parse. */
export interface ParseOptions {
  /** Put before every message (`"create: "`). */
  prefix?: string;
  /** Put after the unknown-flag message (`" (see --help)"`). */
  unknownHint?: string;
  /** Stop at the first positional argument (global flags before a verb). */
  stopAtPositional?: boolean;
  /**
   * Accept one-letter aliases in every form (`-bVALUE`, grouped `-af`);
   * otherwise an alias is accepted only on its own (`-v`).
   */
  shorts?: boolean;
}

/**
 * Parses flags.
 *
 * @example Verb flags, runc style
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlags } from "./flags.ts";
 *
 * const { values, positionals } = parseFlags(["-b/b", "c1", "--force"], {
 *   bundle: { type: "string", short: "b" },
 *   force: { type: "boolean" },
 * }, { shorts: true });
 * assert.deepEqual(values, { bundle: "/b", force: true });
 * assert.deepEqual(positionals, ["c1"]);
 * ```
 *
 * @param args The arguments.
 * @param specs The flags.
 * @param options Messages and style.
 * @returns Values and positionals.
 * @throws {UsageError} On an unknown flag or a missing or unexpected value.
 */
export function parseFlags(
  args: readonly string[],
  specs: FlagSpecs,
  options: ParseOptions = {},
): ParsedFlags {
  const { prefix = "", unknownHint = "" } = options;
  const values: ParsedFlags["values"] = {};
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.default !== undefined) values[name] = spec.default;
    if (spec.short) byShort.set(spec.short, name);
  }
  const positionals: string[] = [];
  const fail = (text: string): never => {
    throw new UsageError(`${prefix}${text}`);
  };
  const take = (name: string, value: string | undefined) => {
    if (value === undefined) fail(`flag --${name} needs a value`);
    values[name] = value;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      if (options.stopAtPositional) {
        positionals.push(...args.slice(i));
        break;
      }
      positionals.push(arg);
      continue;
    }
    const body = arg.slice(arg.startsWith("--") ? 2 : 1);
    const eq = body.indexOf("=");
    const key = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    // A long name, with one dash or two as Go's flag package allows.
    const long = Object.hasOwn(specs, key)
      ? key
      : key.length === 1 && (options.shorts || arg === `-${key}`)
      ? byShort.get(key)
      : undefined;
    if (long !== undefined) {
      if (specs[long]!.type === "string") {
        take(long, inline ?? args[++i]);
      } else if (inline === undefined || inline === "true") {
        values[long] = true;
      } else if (inline === "false") {
        values[long] = false;
      } else {
        fail(`flag --${long} takes no value`);
      }
      continue;
    }
    if (!options.shorts || arg.startsWith("--") || !byShort.has(arg[1]!)) {
      fail(`unknown flag ${arg.split("=")[0]}${unknownHint}`);
    }
    // Grouped shorts: -af, or -bVALUE.
    for (let c = 1; c < arg.length; c++) {
      const name = byShort.get(arg[c]!) ?? fail(`unknown flag -${arg[c]}`);
      if (specs[name]!.type === "boolean") {
        values[name] = true;
        continue;
      }
      take(name, c + 1 < arg.length ? arg.slice(c + 1) : args[++i]);
      break;
    }
  }
  return { values, positionals };
}
