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
import { openRuntime, type Runtime } from "../core/runtime.ts";
import type { PluginRegistry } from "../core/plugin/types.ts";

/** Global flags, parsed by cli.ts. */
export interface Globals {
  root?: string | undefined;
  log?: string | undefined;
  logFormat: "text" | "json";
  debug: boolean;
  sysroot?: string | undefined;
}

/** What a verb module gets. */
export interface VerbContext {
  /** Global flags. */
  globals: Globals;
  /** Arguments after the verb. */
  args: string[];
}

/** One flag of a verb. */
export interface FlagSpec {
  /** A string flag takes a value; a boolean does not. */
  type: "string" | "boolean";
  /** A one-letter alias (`-b`). */
  short?: string;
  /** The value when the flag is absent. */
  default?: string;
}

/** Flags of a verb, by long name. */
export type VerbOptions = Record<string, FlagSpec>;

/** Parsed flags and positional arguments. */
export interface ParsedVerb {
  /** Values by long name: strings, or true/false for booleans. */
  values: Record<string, string | boolean | undefined>;
  /** The remaining arguments. */
  positionals: string[];
}

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
  const parsed = parseFlags(verb, args, options);
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

function parseFlags(
  verb: string,
  args: string[],
  options: VerbOptions,
): ParsedVerb {
  const values: ParsedVerb["values"] = {};
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(options)) {
    if (spec.default !== undefined) values[name] = spec.default;
    if (spec.short) byShort.set(spec.short, name);
  }
  const positionals: string[] = [];
  const fail = (text: string): never => {
    throw new UsageError(`${verb}: ${text}`);
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
      positionals.push(arg);
      continue;
    }
    const body = arg.slice(arg.startsWith("--") ? 2 : 1);
    const eq = body.indexOf("=");
    const key = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    // A long name, with one dash or two as Go's flag package allows.
    const long = Object.hasOwn(options, key)
      ? key
      : key.length === 1
      ? byShort.get(key)
      : undefined;
    if (long !== undefined) {
      if (options[long]!.type === "string") {
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
    if (arg.startsWith("--") || !byShort.has(arg[1]!)) {
      fail(`unknown flag ${arg.split("=")[0]}`);
    }
    // Grouped shorts: -af, or -bVALUE.
    for (let c = 1; c < arg.length; c++) {
      const name = byShort.get(arg[c]!) ?? fail(`unknown flag -${arg[c]}`);
      if (options[name]!.type === "boolean") {
        values[name] = true;
        continue;
      }
      take(name, c + 1 < arg.length ? arg.slice(c + 1) : args[++i]);
      break;
    }
  }
  return { values, positionals };
}

/**
 * The runtime context for the global flags.
 *
 * @param globals Parsed global flags.
 * @param plugins The plugin registry, for the verbs that choose a plugin
 * (the others do not load one).
 * @returns The context.
 */
export function runtimeFor(
  globals: Globals,
  plugins?: PluginRegistry,
): Runtime {
  return openRuntime({
    sysroot: globals.sysroot,
    stateRoot: globals.root,
    plugins,
  });
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
