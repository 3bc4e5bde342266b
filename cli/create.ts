/**
 * `create [--bundle|-b DIR] [--pid-file FILE] [--console-socket S]
 * [--preserve-fds N] [--no-pivot] [--no-new-keyring] ID`
 *
 * @module
 */
import { parseVerb, runtimeFor, type VerbContext } from "./args.ts";
import { create } from "../core/create.ts";
import { createPlan } from "../core/confine.ts";
import { validateNewId } from "../core/container_id.ts";
import { absolute } from "../core/paths.ts";
import { confineStage, confineVerb } from "./confine.ts";
import { UsageError } from "../core/errors.ts";

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
 * Runs `create`.
 *
 * @param context Globals and arguments.
 */
export async function run({ globals, args }: VerbContext): Promise<void> {
  const { values, positionals } = parseVerb("create", args, {
    bundle: { type: "string", short: "b" },
    "pid-file": { type: "string" },
    "console-socket": { type: "string" },
    "no-pivot": { type: "boolean" },
    "no-new-keyring": { type: "boolean" },
    "preserve-fds": { type: "string" },
  }, { min: 1, max: 1 });
  const rt = runtimeFor(globals);
  const id = positionals[0]!;
  validateNewId(id);
  const pidFile = values["pid-file"] as string | undefined;
  const files = { pidFile: pidFile ? absolute(pidFile) : undefined };
  await confineVerb(rt, globals, "create", id, files, false);
  await create(rt, {
    id,
    preserveFds: preserveFds(values["preserve-fds"] as string | undefined),
    onResolved: (bundle, device) =>
      confineStage(
        globals,
        createPlan(rt, bundle, device.dir, { ...files, log: globals.log }),
        "create (bundle read)",
      ),
    bundle: values.bundle as string | undefined,
    pidFile: values["pid-file"] as string | undefined,
    consoleSocket: values["console-socket"] as string | undefined,
  });
}
