/**
 * `ps [--format table|json] ID`: the container's processes (its proxy), as
 * containerd's shim asks for them.
 *
 * @module
 */
import { parseVerb, print, runtimeFor, type VerbContext } from "./args.ts";
import { UsageError } from "../core/util/errors.ts";
import { processes } from "../core/ops/state.ts";
import { validateId } from "../core/container/ids.ts";
import { confineVerb } from "./confine.ts";

/**
 * Runs `ps`.
 *
 * @param context Globals and arguments.
 */
export async function run({ globals, args }: VerbContext): Promise<void> {
  const { values, positionals } = parseVerb("ps", args, {
    format: { type: "string", short: "f", default: "table" },
  }, { min: 1, max: 64 });
  const format = values.format as string;
  if (format !== "table" && format !== "json") {
    throw new UsageError(`ps: invalid format option ${JSON.stringify(format)}`);
  }
  const rt = runtimeFor(globals);
  const id = positionals[0]!;
  validateId(id);
  await confineVerb(rt, globals, "ps", id);
  const pids = await processes(rt, id);
  if (format === "json") {
    print(JSON.stringify(pids));
    return;
  }
  print(["PID", ...pids.map(String)].join("\n"));
}
