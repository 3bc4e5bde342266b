/**
 * `list [--format table|json] [--quiet|-q]`
 *
 * @module
 */
import { checkFormat, print, printTable, type VerbContext } from "./args.ts";
import { runVerb } from "./run.ts";
import { list } from "../core/ops/state.ts";

/**
 * Runs `list`.
 *
 * @param context Globals and arguments.
 */
export function run(context: VerbContext): Promise<void> {
  return runVerb(context, {
    verb: "list",
    flags: {
      format: { type: "string", short: "f", default: "table" },
      quiet: { type: "boolean", short: "q" },
    },
    positionals: { min: 0, max: 0 },
    id: false,
    check: ({ values }) => checkFormat("list", values.format),
  }, async ({ rt, values }) => {
    printStates(await list(rt), values);
  });
}

function printStates(
  states: Awaited<ReturnType<typeof list>>,
  values: Record<string, string | boolean | undefined>,
): void {
  const format = values.format as string;
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
  printTable(rows);
}
