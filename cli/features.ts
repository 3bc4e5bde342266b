/**
 * `features`: prints the OCI features document.
 *
 * @module
 */
import { parseVerb, print, type VerbContext } from "./args.ts";
import { features } from "../core/ops/features.ts";
import { loadPlugins, pluginSource } from "../plugins/registry.ts";

/**
 * Runs `features`.
 *
 * @param context Globals and arguments.
 */
export async function run({ globals, args }: VerbContext): Promise<void> {
  parseVerb("features", args, {}, { min: 0, max: 0 });
  const plugins = await loadPlugins(globals.sysroot || "/");
  print(JSON.stringify(features(plugins, pluginSource), null, 2));
}
