/**
 * `list [--format table|json] [--quiet|-q]`
 *
 * @module
 */
import { parseVerb, print, runtimeFor, type VerbContext } from "./args.ts";
import { UsageError } from "../core/util/errors.ts";
import { list } from "../core/ops/state.ts";
import { confineVerb } from "./confine.ts";

/**
 * Runs `list`.
 *
 * @param context Globals and arguments.
 */
export async function run({ globals, args }: VerbContext): Promise<void> {
  const { values } = parseVerb("list", args, {
    format: { type: "string", short: "f", default: "table" },
    quiet: { type: "boolean", short: "q" },
  }, { min: 0, max: 0 });
  const format = values.format as string;
  if (format !== "table" && format !== "json") {
    throw new UsageError(
      `list: invalid format option ${JSON.stringify(format)}`,
    );
  }
  const rt = runtimeFor(globals);
  await confineVerb(rt, globals, "list");
  const states = await list(rt);
  if (values.quiet) {
    for (const s of states) print(s.id);
    return;
  }
  if (format === "json") {
    print(JSON.stringify(states.map((s) => ({
      ociVersion: s.ociVersion,
      id: s.id,
      pid: s.pid,
      status: s.status,
      bundle: s.bundle,
      rootfs: s.rootfs,
      created: s.created,
      annotations: s.annotations,
    }))));
    return;
  }
  const rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED"]].concat(
    states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created]),
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
