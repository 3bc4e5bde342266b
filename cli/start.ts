/**
 * `start ID`
 *
 * @module
 */
import { parseVerb, runtimeFor, type VerbContext } from "./args.ts";
import { start } from "../core/ops/start.ts";
import { validateId } from "../core/container/ids.ts";
import { registry } from "../plugins/registry.ts";
import { confineVerb } from "./confine.ts";

/**
 * Runs `start`.
 *
 * @param context Globals and arguments.
 */
export async function run({ globals, args }: VerbContext): Promise<void> {
  const { positionals } = parseVerb("start", args, {}, { min: 1, max: 1 });
  const rt = runtimeFor(globals, registry);
  const id = positionals[0]!;
  validateId(id);
  await confineVerb(rt, globals, "start", id);
  await start(rt, id);
}
