/**
 * `start ID`
 *
 * @module
 */
import { parseVerb, runtimeFor, type VerbContext } from "./args.ts";
import { start } from "../core/start.ts";

/**
 * Runs `start`.
 *
 * @param context Globals and arguments.
 */
export async function run({ globals, args }: VerbContext): Promise<void> {
  const { positionals } = parseVerb("start", args, {}, { min: 1, max: 1 });
  await start(runtimeFor(globals), positionals[0]!);
}
