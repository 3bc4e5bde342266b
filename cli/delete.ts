/**
 * `delete [--force|-f] ID`
 *
 * @module
 */
import { parseVerb, runtimeFor, type VerbContext } from "./args.ts";
import { deleteContainer } from "../core/delete.ts";
import { validateId } from "../core/container_id.ts";
import { confineVerb } from "./confine.ts";
import { lazyImport } from "../core/lazy.ts";
import { oneLine } from "../core/message_text.ts";

/**
 * Runs `delete`.
 *
 * @param context Globals and arguments.
 */
export async function run({ globals, args }: VerbContext): Promise<void> {
  const { values, positionals } = parseVerb("delete", args, {
    force: { type: "boolean", short: "f" },
  }, { min: 1, max: 1 });
  const rt = runtimeFor(globals);
  const id = positionals[0]!;
  validateId(id);
  await confineVerb(rt, globals, "delete", id);
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
}
