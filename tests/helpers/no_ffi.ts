/**
 * The runtime with FFI denied (no Landlock, no posix_spawn, no signalfd:
 * the fallbacks), two ways for the tests.
 *
 * @module
 */
import { join } from "node:path";
import { fromFileUrl } from "./paths.ts";

const PROJECT = fromFileUrl(new URL("../..", import.meta.url));

/**
 * A command line that runs cli.ts from the sources as the launcher would
 * for `sysroot` (the `sysroot` permission set, writes to the sysroot),
 * with FFI denied.
 *
 * @param sysroot The sysroot.
 * @param args The runtime's arguments after `--sysroot`.
 * @returns The program and its arguments, and the environment to give it.
 */
export function cliWithoutFfi(
  sysroot: string,
  args: string[],
): { argv: string[]; env: Record<string, string> } {
  return {
    argv: [
      Deno.execPath(),
      "run",
      "-q",
      `--config=${join(PROJECT, "deno.json")}`,
      "-P=sysroot",
      "--deny-ffi",
      `--allow-write=${sysroot}`,
      join(PROJECT, "cli.ts"),
      `--sysroot=${sysroot}`,
      ...args,
    ],
    env: { DENO_DIR: join(PROJECT, ".cache/deno") },
  };
}

/**
 * Writes a `deno` for the launcher (`REMOTEPROC_RUNTIME_DENO`) that denies
 * FFI to every run, and returns the environment that selects it.
 *
 * @param dir Where to write it.
 * @returns `{ REMOTEPROC_RUNTIME_DENO: <it> }`.
 */
export function launcherDenoWithoutFfi(dir: string): Record<string, string> {
  const deno = join(dir, "deno-without-ffi");
  Deno.writeTextFileSync(
    deno,
    `#!/bin/sh\nverb=$1; shift\nexec ${Deno.execPath()} "$verb" --deny-ffi "$@"\n`,
  );
  Deno.chmodSync(deno, 0o755);
  return { REMOTEPROC_RUNTIME_DENO: deno };
}
