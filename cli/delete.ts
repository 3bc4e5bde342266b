/**
 * `delete [--force|-f] ID`
 *
 * @module
 */
import type { VerbContext } from "./args.ts";
import { runVerb } from "./run.ts";
import { deleteContainer } from "../core/ops/delete.ts";
import { registry } from "../plugins/registry.ts";

/**
 * Runs `delete`; what `--force` cleaned past is a warning on stderr.
 *
 * @param context Global flags and the verb's arguments.
 */
export function run(context: VerbContext): Promise<void> {
  return runVerb(context, {
    verb: "delete",
    flags: { force: { type: "boolean", short: "f" } },
    positionals: { min: 1, max: 1 },
    id: true,
    plugins: registry,
  }, ({ rt, id, values }) =>
    deleteContainer(rt, {
      id,
      force: values.force as boolean | undefined,
      warn: (message) => {
        Deno.stderr.writeSync(
          new TextEncoder().encode(`remoteproc-runtime: warning: ${message}\n`),
        );
      },
    }));
}
