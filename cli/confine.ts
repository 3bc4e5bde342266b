/**
 * The CLI side of Landlock self-confinement (core/confine.ts): each verb
 * calls {@linkcode confineVerb} right after parsing its arguments. Where
 * Landlock is unavailable the verb goes on after one warning (to `--log`
 * when given, else stderr).
 *
 * @module
 */
import type { Globals } from "./args.ts";
import {
  confine,
  type Confinement,
  type OutputFiles,
  type Plan,
  prepareDirs,
  probeReads,
  probeWrites,
  type Verb,
  verbPlan,
} from "../core/confine.ts";
import { debug, warn } from "../core/log.ts";
import { lazyImport } from "../core/lazy.ts";
import type { Runtime } from "../core/runtime.ts";

let warned = false;

/**
 * Confines the process for a verb.
 *
 * @param rt The runtime context.
 * @param globals Global flags (for `--log`).
 * @param verb The verb.
 * @param id Its container id, validated, if it takes one.
 * @param files Output files it writes besides `--log`.
 * @param probe Run the test-only write probe now (false when a later stage
 * narrows further).
 */
export async function confineVerb(
  rt: Runtime,
  globals: Globals,
  verb: Verb,
  id?: string,
  files: Omit<OutputFiles, "log"> = {},
  probe = true,
): Promise<void> {
  if (verb === "create") prepareDirs(rt.roots);
  const plan = verbPlan(rt, verb, id, { ...files, log: globals.log });
  await apply(globals, plan, verb);
  if (probe) {
    probeWrites();
    probeReads();
  }
}

/**
 * Applies a further, narrower stage (create, once it knows the processor).
 *
 * @param globals Global flags.
 * @param plan The plan.
 * @param what For the debug log.
 */
export async function confineStage(
  globals: Globals,
  plan: Plan,
  what: string,
): Promise<void> {
  await apply(globals, plan, what);
  probeWrites();
  probeReads();
}

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
