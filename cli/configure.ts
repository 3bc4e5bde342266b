/**
 * Hidden verb `__configure ENGINE FILE BINARY` used by install.sh: updates
 * an engine's configuration file idempotently, keeping a `.bak` copy of
 * what it changes. ENGINE is podman (FILE is the drop-in to write), docker,
 * containerd or k3s (containerd's block in k3s's config.toml.tmpl).
 *
 * @module
 */
import { parseVerb, print, type VerbContext } from "./args.ts";
import { UsageError } from "../core/util/errors.ts";
import {
  containerdToml,
  dockerDaemonJson,
  K3S_TEMPLATE_BASE,
  podmanDropIn,
} from "../core/engine_config.ts";

/**
 * Runs `__configure`.
 *
 * @param context Globals and arguments.
 */
export function run({ args }: VerbContext): Promise<void> {
  const { positionals } = parseVerb("__configure", args, {}, {
    min: 3,
    max: 3,
  });
  const [engine, file, binary] = positionals as [string, string, string];
  let current: string | undefined;
  try {
    current = Deno.readTextFileSync(file);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  let next: string;
  try {
    next = engine === "podman"
      ? podmanDropIn(binary)
      : engine === "docker"
      ? dockerDaemonJson(current, binary)
      : engine === "containerd"
      ? containerdToml(current, binary)
      : engine === "k3s"
      ? containerdToml(current, binary, K3S_TEMPLATE_BASE)
      : (() => {
        throw new UsageError(
          `__configure: unknown engine ${JSON.stringify(engine)}`,
        );
      })();
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new UsageError(`${file}: ${error.message}`);
    }
    throw error;
  }
  if (next === current) {
    print(`${file}: already configured`);
    return Promise.resolve();
  }
  if (current !== undefined) Deno.writeTextFileSync(`${file}.bak`, current);
  Deno.writeTextFileSync(file, next);
  print(
    `${file}: configured${
      current !== undefined ? ` (previous version in ${file}.bak)` : ""
    }`,
  );
  return Promise.resolve();
}
