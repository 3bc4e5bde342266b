/**
 * `delete [--force|-f] ID`
 *
 * @module
 */
import { parseVerb, runtimeFor, type VerbContext } from "./args.ts";
import { deleteContainer } from "../core/delete.ts";

/**
 * Runs `delete`.
 *
 * @param context Globals and arguments.
 */
export async function run({ globals, args }: VerbContext): Promise<void> {
  const { values, positionals } = parseVerb("delete", args, {
    force: { type: "boolean", short: "f" },
  }, { min: 1, max: 1 });
  await deleteContainer(runtimeFor(globals), {
    id: positionals[0]!,
    force: values.force as boolean | undefined,
    warn: (message) => {
      Deno.stderr.writeSync(
        new TextEncoder().encode(`remoteproc-runtime: warning: ${message}\n`),
      );
    },
  });
}
