/**
 * The command line, runc-compatible:
 * `remoteproc-runtime [global flags] VERB [flags] ARGS`. It parses global
 * flags, lazy-loads the verb's module from `cli/`, and turns errors into one
 * line on stderr (and one JSON line in `--log`) with exit code 1.
 *
 * @module
 */
import { describeError, RuntimeError, UsageError } from "./core/errors.ts";
import { type Globals, print } from "./cli/args.ts";
import { buildCommit, SPEC_VERSION, VERSION } from "./core/version.ts";
import { oneLine } from "./core/message_text.ts";
import { lazyImport, setEntry } from "./core/lazy.ts";

setEntry(import.meta.url);

type VerbModule = {
  run(context: { globals: Globals; args: string[] }): Promise<void>;
};

const VERBS: Record<string, () => Promise<VerbModule>> = {
  create: () => lazyImport("cli/create.ts"),
  start: () => lazyImport("cli/start.ts"),
  kill: () => lazyImport("cli/kill.ts"),
  delete: () => lazyImport("cli/delete.ts"),
  state: () => lazyImport("cli/state.ts"),
  list: () => lazyImport("cli/list.ts"),
  ps: () => lazyImport("cli/ps.ts"),
  features: () => lazyImport("cli/features.ts"),
  processors: () => lazyImport("cli/processors.ts"),
  "device-plugin": () => lazyImport("cli/device_plugin.ts"),
  __configure: () => lazyImport("cli/configure.ts"),
};

/** Global flags that take a value. */
const VALUE_FLAGS = new Set([
  "root",
  "log",
  "log-format",
  "sysroot",
  "cgroup-manager",
  "rootless",
  "criu",
]);
const BOOLEAN_FLAGS = new Set(["debug", "systemd-cgroup", "version", "help"]);

/** Usage text for `--help`. */
export const USAGE =
  `remoteproc-runtime ${VERSION}: an OCI runtime for remote processors (Linux remoteproc)

Usage: remoteproc-runtime [global flags] VERB [flags] ARGS

Verbs:
  create [--bundle|-b DIR] [--pid-file FILE] ID   make a container and its proxy
  start ID                                         deploy the firmware and start the processor
  kill [--all|-a] ID [SIGNAL]                      TERM/INT stop the processor, KILL kills the proxy
  delete [--force|-f] ID                           remove a stopped (or, with -f, any) container
  state ID                                         print the OCI state
  list [--format table|json] [--quiet|-q]          list containers
  ps [--format table|json] ID                      the proxy's pid
  features                                         print the OCI features document
  processors [--format table|json]                 the remote processors: state, plugin, holder
  device-plugin [--kubelet-dir DIR]                the Kubernetes device plugin (runs until TERM)

Global flags:
  --root DIR          state directory (default /run/remoteproc-runtime as root)
  --log FILE          log file; --log-format text|json (default text)
  --debug             log debug records
  --sysroot DIR       resolve /sys and /lib/firmware under DIR (env REMOTEPROC_RUNTIME_SYSROOT)
  --version, --help
  --systemd-cgroup, --cgroup-manager X   accepted and ignored`;

interface ParsedGlobals extends Globals {
  version: boolean;
  help: boolean;
  verb: string | undefined;
  rest: string[];
}

/**
 * Splits global flags from the verb and its arguments.
 *
 * @param argv The command line without the program name.
 * @returns Globals, verb and the verb's arguments.
 */
export function parseGlobals(argv: string[]): ParsedGlobals {
  const out: ParsedGlobals = {
    logFormat: "text",
    debug: false,
    version: false,
    help: false,
    verb: undefined,
    rest: [],
    sysroot: Deno.env.get("REMOTEPROC_RUNTIME_SYSROOT") || undefined,
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "-") break;
    if (arg === "--") {
      i++;
      break;
    }
    if (arg === "-v") {
      out.version = true;
      continue;
    }
    if (arg === "-h") {
      out.help = true;
      continue;
    }
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (VALUE_FLAGS.has(name)) {
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined) {
          throw new UsageError(`flag --${name} needs a value`);
        }
      }
    } else if (BOOLEAN_FLAGS.has(name)) {
      if (value !== undefined && value !== "true" && value !== "false") {
        throw new UsageError(`flag --${name} takes no value`);
      }
      value = value ?? "true";
    } else {
      throw new UsageError(`unknown flag ${arg.split("=")[0]} (see --help)`);
    }
    switch (name) {
      case "root":
        out.root = value;
        break;
      case "log":
        out.log = value;
        break;
      case "log-format":
        if (value !== "text" && value !== "json") {
          throw new UsageError(
            `--log-format must be text or json, not ${JSON.stringify(value)}`,
          );
        }
        out.logFormat = value;
        break;
      case "sysroot":
        out.sysroot = value;
        break;
      case "debug":
        out.debug = value === "true";
        break;
      case "version":
        out.version = value === "true";
        break;
      case "help":
        out.help = value === "true";
        break;
        // systemd-cgroup, cgroup-manager, rootless, criu: accepted, ignored
    }
  }
  out.verb = argv[i];
  out.rest = argv.slice(i + 1);
  return out;
}

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
    const load = VERBS[parsed.verb];
    if (!load) {
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
    await (await load()).run({ globals: parsed, args: parsed.rest });
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
