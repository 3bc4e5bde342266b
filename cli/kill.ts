/**
 * `kill [--all|-a] ID [SIGNAL]`
 *
 * @module
 */
import { parseVerb, runtimeFor, type VerbContext } from "./args.ts";
import { kill } from "../core/ops/kill.ts";
import { validateId } from "../core/container/ids.ts";
import { parseSignal } from "../core/os/signals.ts";
import { confineVerb } from "./confine.ts";

/**
 * Runs `kill`.
 *
 * @param context Globals and arguments.
 */
export async function run({ globals, args }: VerbContext): Promise<void> {
  const { values, positionals } = parseVerb("kill", args, {
    all: { type: "boolean", short: "a" },
  }, { min: 1, max: 2 });
  const rt = runtimeFor(globals);
  const id = positionals[0]!;
  validateId(id);
  parseSignal(positionals[1]);
  await confineVerb(rt, globals, "kill", id);
  await kill(rt, {
    id,
    signal: positionals[1],
    all: values.all as boolean | undefined,
  });
}
