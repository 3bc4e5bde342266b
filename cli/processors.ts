/**
 * `processors [--format table|json]`: the remote processors, their state,
 * plugin and holder.
 *
 * @module
 */
import { checkFormat, print, printTable, type VerbContext } from "./args.ts";
import { runVerb } from "./run.ts";
import { listProcessors } from "../core/ops/processors.ts";
import { registry } from "../plugins/registry.ts";

/**
 * Runs `processors`.
 *
 * @param context Globals and arguments.
 */
export function run(context: VerbContext): Promise<void> {
  return runVerb(context, {
    verb: "processors",
    flags: {
      format: { type: "string", short: "f", default: "table" },
    },
    positionals: { min: 0, max: 0 },
    id: false,
    plugins: registry,
    check: ({ values }) => checkFormat("processors", values.format),
  }, async ({ rt, values }) => {
    const processors = await listProcessors(rt);
    if (values.format === "json") {
      print(JSON.stringify(processors));
      return;
    }
    const rows = [["INDEX", "NAME", "STATE", "PLUGIN", "CONTAINER"]].concat(
      processors.map((
        p,
      ) => [p.index, p.name, p.state, p.plugin, p.container ?? "-"]),
    );
    printTable(rows);
  });
}
