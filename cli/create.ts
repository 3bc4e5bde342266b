/**
 * `create [--bundle|-b DIR] [--pid-file FILE] [--console-socket S]
 * [--no-pivot] [--no-new-keyring] ID`
 *
 * @module
 */
import { parseVerb, runtimeFor, type VerbContext } from "./args.ts";
import { create } from "../core/create.ts";

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
  await create(runtimeFor(globals), {
    id: positionals[0]!,
    bundle: values.bundle as string | undefined,
    pidFile: values["pid-file"] as string | undefined,
    consoleSocket: values["console-socket"] as string | undefined,
  });
}
