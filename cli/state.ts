/**
 * `state ID`: prints the OCI state as JSON.
 *
 * @module
 */
import { parseVerb, print, runtimeFor, type VerbContext } from "./args.ts";
import { state } from "../core/state.ts";

/**
 * Runs `state`.
 *
 * @param context Globals and arguments.
 */
export async function run({ globals, args }: VerbContext): Promise<void> {
  const { positionals } = parseVerb("state", args, {}, { min: 1, max: 1 });
  print(
    JSON.stringify(await state(runtimeFor(globals), positionals[0]!), null, 2),
  );
}
