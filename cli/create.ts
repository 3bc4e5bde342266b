/**
 * `create [--bundle|-b DIR] [--pid-file FILE] [--console-socket S]
 * [--preserve-fds N] [--no-pivot] [--no-new-keyring] ID`
 *
 * @module
 */
import type { VerbContext } from "./args.ts";
import { confineStage, runVerb } from "./run.ts";
import { commitCreate, prepareCreate } from "../core/ops/create.ts";
import { createPlan } from "../core/os/confinement.ts";
import { absolute } from "../core/container/paths.ts";
import { UsageError } from "../core/util/errors.ts";
import { registry } from "../plugins/registry.ts";

/** More than any engine passes, and a bound on the check. */
const MAX_PRESERVE_FDS = 1024;

function preserveFds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const count = /^\d{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(count <= MAX_PRESERVE_FDS)) {
    throw new UsageError(
      `--preserve-fds takes a number of descriptors (0-${MAX_PRESERVE_FDS}), not ${
        JSON.stringify(value)
      }`,
    );
  }
  return count;
}

/**
 * Runs `create`: confined widely to read the bundle, then to the bundle and
 * the processor it names before anything is written.
 *
 * @param context Global flags and the verb's arguments.
 */
export function run(context: VerbContext): Promise<void> {
  return runVerb(context, {
    verb: "create",
    flags: {
      bundle: { type: "string", short: "b" },
      "pid-file": { type: "string" },
      "console-socket": { type: "string" },
      "no-pivot": { type: "boolean" },
      "no-new-keyring": { type: "boolean" },
      "preserve-fds": { type: "string" },
    },
    positionals: { min: 1, max: 1 },
    id: "new",
    plugins: registry,
    files: ({ values }) => {
      const pidFile = values["pid-file"] as string | undefined;
      return { pidFile: pidFile ? absolute(pidFile) : undefined };
    },
    staged: true,
  }, async ({ rt, id, values, globals, files }) => {
    const prepared = await prepareCreate(rt, {
      id,
      preserveFds: preserveFds(values["preserve-fds"] as string | undefined),
      bundle: values.bundle as string | undefined,
      pidFile: files.pidFile,
      consoleSocket: values["console-socket"] as string | undefined,
    });
    await confineStage(
      globals,
      createPlan(rt, prepared.bundle, prepared.device?.dir, files),
      "create (bundle read)",
    );
    await commitCreate(rt, prepared);
  });
}
