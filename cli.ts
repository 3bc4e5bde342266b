/**
 * The command line, runc-compatible:
 * `remoteproc-runtime [global flags] VERB [flags] ARGS`. It parses global
 * flags, lazy-loads the verb's module from `cli/`, and turns errors into one
 * line on stderr (and one JSON line in `--log`) with exit code 1.
 *
 * @module
 */
import { describeError, RuntimeError, UsageError } from "./core/util/errors.ts";
import {
  type Globals,
  parseGlobals,
  print,
  type VerbContext,
} from "./cli/args.ts";
import { isVerb, type VerbEntry, VERBS, verbUsage } from "./cli/verbs.ts";
import { buildCommit, SPEC_VERSION, VERSION } from "./core/util/version.ts";
import { oneLine } from "./core/util/message_text.ts";
import { lazyImport, setEntry } from "./core/util/lazy.ts";

setEntry(import.meta.url);

type VerbModule = {
  run(context: VerbContext): Promise<void>;
};

/** Usage text for `--help`. */
export const USAGE =
  `remoteproc-runtime ${VERSION}: an OCI runtime for remote processors (Linux remoteproc)

Usage: remoteproc-runtime [global flags] VERB [flags] ARGS

Verbs:
${verbUsage().join("\n")}

Global flags:
  --root DIR          state directory (default /run/remoteproc-runtime as root)
  --log FILE          log file; --log-format text|json (default text)
  --debug             log debug records
  --sysroot DIR       resolve /sys and /lib/firmware under DIR (env REMOTEPROC_RUNTIME_SYSROOT)
  --version, --help
  --systemd-cgroup, --cgroup-manager X   accepted and ignored`;

function versionText(): string {
  return [
    `remoteproc-runtime version ${VERSION}`,
    `commit: ${buildCommit()}`,
    `spec: ${SPEC_VERSION}`,
    `deno: ${Deno.version.deno}`,
  ].join("\n");
}

const encoder = new TextEncoder();

/**
 * Runs the CLI.
 *
 * @param argv The command line without the program name.
 * @returns The exit code, or undefined when the process must live on (the
 * hidden proxy subcommand of a compiled binary).
 */
export async function main(argv: string[]): Promise<number | undefined> {
  let globals: Globals = { logFormat: "text", debug: false };
  try {
    if (argv[0] === "__proxy") {
      const { proxyMain } = await lazyImport<typeof import("./proxy.ts")>(
        "proxy.ts",
      );
      proxyMain(argv.slice(1));
      return undefined; // the proxy lives on its timers
    }
    const parsed = parseGlobals(argv);
    globals = parsed;
    if (parsed.version) {
      print(versionText());
      return 0;
    }
    if (parsed.help || parsed.verb === undefined || parsed.verb === "help") {
      print(USAGE);
      return parsed.verb === undefined && !parsed.help ? 1 : 0;
    }
    if (!isVerb(parsed.verb)) {
      throw new UsageError(
        `unknown command ${JSON.stringify(parsed.verb)} (see --help)`,
      );
    }
    if (parsed.debug) {
      const { setUpLogging } = await lazyImport<
        typeof import("./cli/logging.ts")
      >(
        "cli/logging.ts",
      );
      await setUpLogging({
        file: parsed.log,
        format: parsed.logFormat,
        debug: true,
      });
    }
    if (parsed.rest.includes("--help") || parsed.rest.includes("-h")) {
      print(USAGE);
      return 0;
    }
    const { module, access } = VERBS[parsed.verb] as VerbEntry;
    const verb = await lazyImport<VerbModule>(module);
    await verb.run({ globals: parsed, args: parsed.rest, access });
    return 0;
  } catch (error) {
    // oneLine: whatever a message carries, it stays one line.
    const message = oneLine(
      error instanceof RuntimeError
        ? error.message
        : `internal error: ${describeError(error)}`,
    );
    try {
      Deno.stderr.writeSync(encoder.encode(`remoteproc-runtime: ${message}\n`));
    } catch {
      // stderr closed
    }
    const { logError } = await lazyImport<typeof import("./cli/logging.ts")>(
      "cli/logging.ts",
    );
    await logError({
      file: globals.log,
      format: globals.logFormat,
      debug: globals.debug,
    }, message);
    return error instanceof RuntimeError ? error.exitCode : 1;
  }
}

if (import.meta.main) {
  const code = await main(Deno.args);
  if (code !== undefined) Deno.exit(code);
}
