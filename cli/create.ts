/**
 * `create [--bundle|-b DIR] [--pid-file FILE] [--console-socket S]
 * [--no-pivot] [--no-new-keyring] ID`
 *
 * @module
 */
import { parseVerb, runtimeFor, type VerbContext } from "./args.ts";
import { create } from "../core/create.ts";
import { createPlan } from "../core/confine.ts";
import { validateId } from "../core/container_id.ts";
import { absolute } from "../core/paths.ts";
import { confineStage, confineVerb } from "./confine.ts";

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
  validateId(id);
  const pidFile = values["pid-file"] as string | undefined;
  const files = { pidFile: pidFile ? absolute(pidFile) : undefined };
  await confineVerb(rt, globals, "create", id, files, false);
  await create(rt, {
    id,
    onResolved: (bundle, device) =>
      confineStage(
        globals,
        createPlan(rt, bundle, device?.dir, { ...files, log: globals.log }),
        "create (bundle read)",
      ),
    bundle: values.bundle as string | undefined,
    pidFile: values["pid-file"] as string | undefined,
    consoleSocket: values["console-socket"] as string | undefined,
  });
}
