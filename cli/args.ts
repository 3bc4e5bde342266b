/**
 * Argument parsing shared by the verbs: node:util parseArgs with its errors
 * turned into one-line usage errors.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../core/errors.ts";
import { openRuntime, type Runtime } from "../core/runtime.ts";

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

/** Options of a verb, as node:util parseArgs takes them. */
export type VerbOptions = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses a verb's arguments.
 *
 * @param verb The verb, for messages.
 * @param args Its arguments.
 * @param options Its flags.
 * @param positionals How many positional arguments it takes.
 * @returns Values and positionals.
 */
export function parseVerb<O extends VerbOptions>(
  verb: string,
  args: string[],
  options: O,
  positionals: { min: number; max: number },
) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${verb}: ${usageMessage(error)}`);
  }
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
 * Rewords node:util parseArgs errors as one line.
 *
 * @param error What parseArgs threw.
 * @returns A short message.
 */
export function usageMessage(error: unknown): string {
  const e = error as { code?: string; message?: string };
  // parseArgs names a flag as '--bundle' or '-b, --bundle <value>'.
  const quoted = /'(-[^']*)'/.exec(e.message ?? "")?.[1];
  const flag = quoted && (/--[^\s,]+/.exec(quoted)?.[0] ?? quoted);
  switch (e.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown flag ${flag ?? ""}`.trim();
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return `flag ${flag ?? ""} needs a value`.replace("  ", " ");
    default:
      return (e.message ?? String(error)).split("\n")[0]!;
  }
}

/**
 * The runtime context for the global flags.
 *
 * @param globals Parsed global flags.
 * @returns The context.
 */
export function runtimeFor(globals: Globals): Runtime {
  return openRuntime({ sysroot: globals.sysroot, stateRoot: globals.root });
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
