/**
 * `delete [--force|-f] ID`
 *
 * @module
 */
import { parseVerb, runtimeFor, type VerbContext } from "./args.ts";
import { deleteContainer } from "../core/ops/delete.ts";
import { validateId } from "../core/container/ids.ts";
import { registry } from "../plugins/registry.ts";
import { confineVerb } from "./confine.ts";

/**
 * Runs `delete`.
 *
 * @param context Globals and arguments.
 */
export async function run({ globals, args }: VerbContext): Promise<void> {
  const { values, positionals } = parseVerb("delete", args, {
    force: { type: "boolean", short: "f" },
  }, { min: 1, max: 1 });
  const rt = runtimeFor(globals, registry);
  const id = positionals[0]!;
  validateId(id);
  await confineVerb(rt, globals, "delete", id);
  await deleteContainer(rt, {
    id,
    force: values.force as boolean | undefined,
    warn: (message) => {
      Deno.stderr.writeSync(
        new TextEncoder().encode(`remoteproc-runtime: warning: ${message}\n`),
      );
    },
  });
}
