/**
 * The verb runner: what every container verb does before its own work.
 * It parses the verb's arguments, opens the runtime context, checks the
 * container id, runs the verb's own argument checks, and confines the
 * process with Landlock to what the verb may touch (its `access` in the
 * verb table, which cli.ts passes on; planned by core/os/confinement.ts).
 * Where Landlock is
 * unavailable the verb goes on after one warning (to `--log` when given,
 * else stderr).
 *
 * @module
 */
import {
  type Globals,
  type ParsedVerb,
  parseVerb,
  type VerbContext,
  type VerbOptions,
} from "./args.ts";
import type { ConfinedVerb } from "./verbs.ts";
import {
  accessPlan,
  confine,
  type Confinement,
  type OutputFiles,
  type Plan,
  prepareDirs,
  probeReads,
  probeWrites,
} from "../core/os/confinement.ts";
import { validateId, validateNewId } from "../core/container/ids.ts";
import { openRuntime, type Runtime } from "../core/runtime.ts";
import type { PluginRegistry } from "../core/plugin/types.ts";
import { debug, warn } from "../core/util/log.ts";
import { lazyImport } from "../core/util/lazy.ts";

/** A container verb's arguments and how it starts. */
export interface VerbSpec {
  /** The verb, a key of the verb table with an `access`. */
  verb: ConfinedVerb;
  /** Its flags. */
  flags: VerbOptions;
  /** How many positional arguments it takes. */
  positionals: { min: number; max: number };
  /**
   * Whether the first positional is a container id: `"new"` for one that
   * names a new container (`create` takes ids up to 255 characters).
   */
  id: boolean | "new";
  /** The plugin registry, for the verbs that choose a plugin. */
  plugins?: PluginRegistry;
  /**
   * The verb's own argument checks, after the id's and before anything is
   * touched.
   */
  check?: (parsed: ParsedVerb) => void;
  /** Files it writes besides `--log` (absolute paths). */
  files?: (parsed: ParsedVerb) => Omit<OutputFiles, "log">;
  /**
   * The verb narrows its confinement further itself (`create`, once it has
   * read the bundle): the test-only write probe waits for that.
   */
  staged?: boolean;
}

/** What a verb's body gets. */
export interface VerbCall extends ParsedVerb {
  /** The runtime context. */
  rt: Runtime;
  /** The container id, checked ("" for a verb without one). */
  id: string;
  /** Global flags. */
  globals: Globals;
  /** The files given by {@linkcode VerbSpec.files}, with `--log`. */
  files: OutputFiles;
}

/**
 * Runs a container verb: parse, open the runtime, check the id and the
 * arguments, confine, then the body.
 *
 * @param context Global flags and the verb's arguments.
 * @param spec The verb.
 * @param body Its work.
 */
export async function runVerb(
  { globals, args, access }: VerbContext,
  spec: VerbSpec,
  body: (call: VerbCall) => Promise<void>,
): Promise<void> {
  const parsed = parseVerb(spec.verb, args, spec.flags, spec.positionals);
  const rt = openRuntime({
    sysroot: globals.sysroot,
    stateRoot: globals.root,
    plugins: spec.plugins,
  });
  const id = spec.id ? parsed.positionals[0]! : "";
  if (spec.id === "new") validateNewId(id);
  else if (spec.id) validateId(id);
  spec.check?.(parsed);
  const files = { ...spec.files?.(parsed), log: globals.log };
  if (spec.verb === "create") prepareDirs(rt.roots);
  if (access === undefined) {
    throw new Error(`${spec.verb}: no access in the verb table`);
  }
  const plan = accessPlan(rt, access, spec.id ? id : undefined, files);
  await apply(globals, plan, spec.verb);
  if (!spec.staged) probe();
  await body({ ...parsed, rt, id, globals, files });
}

/**
 * Narrows the confinement once more (`create` after reading the bundle).
 *
 * @param globals Global flags (for `--log`).
 * @param plan The narrower plan.
 * @param what What is confined, for the debug log.
 */
export async function confineStage(
  globals: Globals,
  plan: Plan,
  what: string,
): Promise<void> {
  await apply(globals, plan, what);
  probe();
}

/** The test-only probes of what the confinement allows. */
function probe(): void {
  probeWrites();
  probeReads();
}

let warned = false;

async function apply(globals: Globals, plan: Plan, what: string) {
  const result: Confinement = confine(plan);
  const status = result.status ?? {
    enforced: false,
    reason: "FFI is not permitted (--allow-ffi)",
    abi: 0,
    allThreads: false,
    skipped: [],
  };
  if (status.enforced) {
    debug(
      `landlock: ${what}: confined at ABI ${status.abi} in ${
        result.ms.toFixed(2)
      } ms${status.allThreads ? "" : " (main thread and children only)"}`,
    );
    return;
  }
  if (warned) return;
  warned = true;
  const message = `landlock unavailable, running unconfined: ${
    status.reason ?? "unknown"
  }`;
  if (globals.log) {
    const { setUpLogging } = await lazyImport<
      typeof import("./logging.ts")
    >("cli/logging.ts");
    await setUpLogging({
      file: globals.log,
      format: globals.logFormat,
      debug: globals.debug,
    });
    warn(message);
  } else {
    Deno.stderr.writeSync(
      new TextEncoder().encode(`remoteproc-runtime: warning: ${message}\n`),
    );
  }
}
