/**
 * `state ID`: prints the OCI state as JSON.
 *
 * @module
 */
import { print, type VerbContext } from "./args.ts";
import { runVerb } from "./run.ts";
import { state } from "../core/ops/state.ts";

/**
 * Runs `state`.
 *
 * @param context Global flags and the verb's arguments.
 */
export function run(context: VerbContext): Promise<void> {
  return runVerb(context, {
    verb: "state",
    flags: {},
    positionals: { min: 1, max: 1 },
    id: true,
  }, async ({ rt, id }) => {
    print(JSON.stringify(await state(rt, id), null, 2));
  });
}
