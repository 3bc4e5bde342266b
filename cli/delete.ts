/**
 * `delete [--force|-f] ID`
 *
 * @module
 */
import type { VerbContext } from "./args.ts";
import { runVerb } from "./run.ts";
import { deleteContainer } from "../core/ops/delete.ts";
import { registry } from "../plugins/registry.ts";
import { lazyImport } from "../core/util/lazy.ts";
import { oneLine } from "../core/util/message_text.ts";

/**
 * Runs `delete`; what `--force` cleaned past is a warning on stderr.
 *
 * @param context Global flags and the verb's arguments.
 */
export function run(context: VerbContext): Promise<void> {
  return runVerb(context, {
    verb: "delete",
    flags: { force: { type: "boolean", short: "f" } },
    positionals: { min: 1, max: 1 },
    id: true,
    plugins: registry,
  }, async ({ rt, id, values, globals }) => {
    const warnings: string[] = [];
    try {
      await deleteContainer(rt, {
        id,
        force: values.force as boolean | undefined,
        warn: (message) => {
          const line = oneLine(message);
          warnings.push(line);
          Deno.stderr.writeSync(
            new TextEncoder().encode(`remoteproc-runtime: warning: ${line}\n`),
          );
        },
      });
    } finally {
      if (warnings.length > 0 && globals.log) {
        const { logWarnings } = await lazyImport<
          typeof import("./logging.ts")
        >("cli/logging.ts");
        await logWarnings({
          file: globals.log,
          format: globals.logFormat,
          debug: globals.debug,
        }, warnings);
      }
    }
  });
}
