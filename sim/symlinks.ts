/**
 * Creating symlinks without unscoped write permission: Deno's symlink API
 * demands `--allow-write` for everything, so the simulator and the tests
 * (which run under narrow permission sets) make them with one `ln -s` run.
 *
 * @module
 */

/**
 * Creates symlinks: each pair is `[target, path]`, as `ln -s target path`.
 *
 * @example
 * ```ts ignore
 * import { makeSymlinks } from "./symlinks.ts";
 * await makeSymlinks([["../..", "/tmp/sim/x/device"]]);
 * ```
 *
 * @param pairs Targets and link paths.
 */
export function makeSymlinks(
  pairs: ReadonlyArray<readonly [string, string]>,
): void {
  if (pairs.length === 0) return;
  const script =
    'while [ "$#" -gt 0 ]; do ln -s -- "$1" "$2" || exit 1; shift 2; done';
  const { success, stderr } = new Deno.Command("/bin/sh", {
    args: ["-c", script, "sh", ...pairs.flat()],
    stdout: "null",
    stderr: "piped",
  }).outputSync();
  if (!success) {
    throw new Error(
      `cannot create symlinks: ${new TextDecoder().decode(stderr).trim()}`,
    );
  }
}
