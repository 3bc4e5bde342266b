/**
 * Which program this is, as far as starting the proxy goes. The compiled
 * binary (`deno task compile`) is one executable, both the runtime and its
 * proxy: `create` re-executes it with the hidden `__proxy` subcommand. A
 * `deno run` of the sources or the bundle starts `proxy.ts` with Deno
 * instead (core/proxy/spawn.ts).
 *
 * No denort can be had where the tests run, so the compiled binary cannot
 * be built there. Its stand-in (tools/standalone.ts, `deno task
 * test:standalone`) is a script that runs `cli.ts` with `deno run -A` from a
 * copy of exactly the modules `deno compile` would embed, and names itself
 * in `REMOTEPROC_RUNTIME_STANDALONE`: the runtime then takes every path the
 * compiled binary takes, re-executing that script as its proxy.
 *
 * @module
 */

/** The variable a stand-in for the compiled binary names itself in. */
export const STANDALONE_ENV = "REMOTEPROC_RUNTIME_STANDALONE";

/**
 * The executable that is both the runtime and its proxy: the compiled
 * binary itself, or the stand-in named by `REMOTEPROC_RUNTIME_STANDALONE`
 * (an absolute path; the compiled binary ignores the variable).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { standaloneExecutable, STANDALONE_ENV } from "./self.ts";
 * // `deno test` is no compiled binary, and names no stand-in.
 * if (!Deno.env.get(STANDALONE_ENV)) {
 *   assert.equal(standaloneExecutable(), undefined);
 * }
 * ```
 *
 * @returns Its path, or undefined for a `deno run`.
 */
export function standaloneExecutable(): string | undefined {
  if (Deno.build.standalone) return Deno.execPath();
  const standIn = Deno.env.get(STANDALONE_ENV);
  return standIn?.startsWith("/") ? standIn : undefined;
}

/**
 * Every file the kernel executes when `create` starts the proxy, for its
 * Landlock execute rule: the Deno binary (the compiled binary is one), and
 * a stand-in script with its interpreter.
 *
 * @returns Absolute paths.
 */
export function proxyExecutables(): string[] {
  const self = standaloneExecutable();
  if (self === undefined || self === Deno.execPath()) return [Deno.execPath()];
  return [Deno.execPath(), self, ...interpreterOf(self)];
}

/** A script's `#!` interpreter, if it is a script. */
function interpreterOf(path: string): string[] {
  let head: Uint8Array;
  try {
    using file = Deno.openSync(path);
    head = new Uint8Array(256);
    head = head.subarray(0, file.readSync(head) ?? 0);
  } catch {
    return []; // spawning it will say what is wrong
  }
  const line = new TextDecoder().decode(head).split("\n")[0]!;
  const interpreter = /^#!\s*(\/\S+)/.exec(line)?.[1];
  return interpreter === undefined ? [] : [interpreter];
}
