/**
 * `start ID`
 *
 * @module
 */
import type { VerbContext } from "./args.ts";
import { runVerb } from "./run.ts";
import { start } from "../core/ops/start.ts";
import { registry } from "../plugins/registry.ts";

/**
 * Runs `start`.
 *
 * @param context Global flags and the verb's arguments.
 */
export function run(context: VerbContext): Promise<void> {
  return runVerb(context, {
    verb: "start",
    flags: {},
    positionals: { min: 1, max: 1 },
    id: true,
    plugins: registry,
  }, async ({ rt, id }) => {
    await start(rt, id);
  });
}
