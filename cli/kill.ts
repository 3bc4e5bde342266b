/**
 * `kill [--all|-a] ID [SIGNAL]`
 *
 * @module
 */
import type { VerbContext } from "./args.ts";
import { runVerb } from "./run.ts";
import { kill } from "../core/ops/kill.ts";
import { parseSignal } from "../core/os/signals.ts";

/**
 * Runs `kill`.
 *
 * @param context Global flags and the verb's arguments.
 */
export function run(context: VerbContext): Promise<void> {
  return runVerb(context, {
    verb: "kill",
    flags: { all: { type: "boolean", short: "a" } },
    positionals: { min: 1, max: 2 },
    id: true,
    check: ({ positionals }) => parseSignal(positionals[1]),
  }, ({ rt, id, values, positionals }) =>
    kill(rt, {
      id,
      signal: positionals[1],
      all: values.all as boolean | undefined,
    }));
}
