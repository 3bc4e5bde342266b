/**
 * `kill [--all|-a] ID [SIGNAL]`
 *
 * @module
 */
import { parseVerb, runtimeFor, type VerbContext } from "./args.ts";
import { kill } from "../core/kill.ts";

/**
 * Runs `kill`.
 *
 * @param context Globals and arguments.
 */
export async function run({ globals, args }: VerbContext): Promise<void> {
  const { values, positionals } = parseVerb("kill", args, {
    all: { type: "boolean", short: "a" },
  }, { min: 1, max: 2 });
  await kill(runtimeFor(globals), {
    id: positionals[0]!,
    signal: positionals[1],
    all: values.all as boolean | undefined,
  });
}
