/**
 * `features`: prints the OCI features document.
 *
 * @module
 */
import { parseVerb, print, type VerbContext } from "./args.ts";
import { features } from "../core/features.ts";

/**
 * Runs `features`.
 *
 * @param context Globals and arguments.
 */
export function run({ args }: VerbContext): Promise<void> {
  parseVerb("features", args, {}, { min: 0, max: 0 });
  print(JSON.stringify(features(), null, 2));
  return Promise.resolve();
}
