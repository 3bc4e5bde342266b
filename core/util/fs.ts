/**
 * Small file helpers shared by the runtime and its tools.
 *
 * @module
 */

/**
 * Removes a file (or, with `recursive`, a tree); one that is already gone
 * is fine.
 *
 * @example
 * ```ts
 * import { removeIfPresent } from "./fs.ts";
 * removeIfPresent("/tmp/does-not-exist-" + crypto.randomUUID());
 * ```
 *
 * @param path The file.
 * @param options `recursive` to remove a directory and what it holds.
 */
export function removeIfPresent(
  path: string,
  options: { recursive?: boolean } = {},
): void {
  try {
    Deno.removeSync(path, options);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
