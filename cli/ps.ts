/**
 * `ps [--format table|json] ID`: the container's processes (its proxy), as
 * containerd's shim asks for them.
 *
 * @module
 */
import { checkFormat, print, type VerbContext } from "./args.ts";
import { runVerb } from "./run.ts";
import { processes } from "../core/ops/state.ts";

/**
 * Runs `ps`.
 *
 * @param context Globals and arguments.
 */
export function run(context: VerbContext): Promise<void> {
  return runVerb(context, {
    verb: "ps",
    flags: { format: { type: "string", short: "f", default: "table" } },
    positionals: { min: 1, max: 64 },
    id: true,
    check: ({ values }) => checkFormat("ps", values.format),
  }, async ({ rt, id, values }) => {
    const pids = await processes(rt, id);
    if (values.format === "json") {
      print(JSON.stringify(pids));
      return;
    }
    print(["PID", ...pids.map(String)].join("\n"));
  });
}
