/**
 * `processors [--format table|json]`: the remote processors, their state,
 * plugin and holder.
 *
 * @module
 */
import { parseVerb, print, runtimeFor, type VerbContext } from "./args.ts";
import { UsageError } from "../core/errors.ts";
import { listProcessors } from "../core/processors.ts";
import { confineVerb } from "./confine.ts";

/**
 * Runs `processors`.
 *
 * @param context Globals and arguments.
 */
export async function run({ globals, args }: VerbContext): Promise<void> {
  const { values } = parseVerb("processors", args, {
    format: { type: "string", short: "f", default: "table" },
  }, { min: 0, max: 0 });
  const format = values.format as string;
  if (format !== "table" && format !== "json") {
    throw new UsageError(
      `processors: invalid format option ${JSON.stringify(format)}`,
    );
  }
  const rt = runtimeFor(globals);
  await confineVerb(rt, globals, "processors");
  const processors = await listProcessors(rt);
  if (format === "json") {
    print(JSON.stringify(processors));
    return;
  }
  const rows = [["INDEX", "NAME", "STATE", "PLUGIN", "CONTAINER"]].concat(
    processors.map((
      p,
    ) => [p.index, p.name, p.state, p.plugin, p.container ?? "-"]),
  );
  const widths = rows[0]!.map((_, c) =>
    Math.max(...rows.map((r) => r[c]!.length))
  );
  for (const row of rows) {
    print(
      row.map((cell, c) =>
        c < row.length - 1 ? cell.padEnd(widths[c]! + 3) : cell
      ).join(""),
    );
  }
}
