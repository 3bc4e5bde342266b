/**
 * `state ID`: prints the OCI state as JSON.
 *
 * @module
 */
import { parseVerb, print, runtimeFor, type VerbContext } from "./args.ts";
import { state } from "../core/ops/state.ts";
import { validateId } from "../core/container/ids.ts";
import { confineVerb } from "./confine.ts";

/**
 * Runs `state`.
 *
 * @param context Globals and arguments.
 */
export async function run({ globals, args }: VerbContext): Promise<void> {
  const { positionals } = parseVerb("state", args, {}, { min: 1, max: 1 });
  const rt = runtimeFor(globals);
  const id = positionals[0]!;
  validateId(id);
  await confineVerb(rt, globals, "state", id);
  print(JSON.stringify(await state(rt, id), null, 2));
}
