/**
 * Collecting the proxy's exit status as an engine does. conmon and
 * containerd's shim are child subreapers: when `create` exits, its proxy is
 * re-parented to them, and they reap it. A test cannot do that itself (the
 * proxy would go to init), so {@linkcode runReaped} runs the CLI under
 * tests/helpers/subreaper.ts, which does what the engines do.
 *
 * @module
 */
import { join } from "node:path";
import { fromFileUrl } from "./paths.ts";
import { type Env, RUNTIME_BIN } from "./harness.ts";

/** How a reaped process ended. */
export interface Reaped {
  pid: number;
  /** Exit code, or 128 + the signal that killed it. */
  code: number;
  /** The signal that killed it, 0 if it exited. */
  signal: number;
}

/** `create` (or any command) running under the reaper. */
export interface ReapedRun {
  /** The command's own exit code, once it has exited. */
  command: Promise<number>;
  /** The processes it left behind (the proxy), once all have exited. */
  orphans: Promise<Reaped[]>;
  /** Its stdout and stderr so far (the proxy writes there too). */
  output(): { stdout: string; stderr: string };
}

const HELPER = fromFileUrl(new URL("./subreaper.ts", import.meta.url));
let runs = 0;

/**
 * Runs the CLI (as `env.run` does) under the reaper.
 *
 * @param env The test environment.
 * @param args CLI arguments, e.g. `["create", "--bundle", dir, id]`.
 * @param extraEnv More environment for the CLI.
 * @returns The running command.
 */
export function runReaped(
  env: Env,
  args: string[],
  extraEnv: Record<string, string> = {},
): ReapedRun {
  const n = runs++;
  const result = join(env.tmp, `reaped${n}.jsonl`);
  const out = join(env.tmp, `reaped${n}.out`);
  const err = join(env.tmp, `reaped${n}.err`);
  Deno.writeTextFileSync(result, "");
  // Output to files: the proxy inherits them and outlives the command.
  const child = new Deno.Command("/bin/sh", {
    args: [
      "-c",
      'out=$1 err=$2; shift 2; exec "$@" >"$out" 2>"$err"',
      "sh",
      out,
      err,
      Deno.execPath(),
      "run",
      "-q",
      "-A",
      "--no-config",
      HELPER,
      result,
      RUNTIME_BIN,
      ...args,
    ],
    env: { REMOTEPROC_RUNTIME_SYSROOT: env.sysroot, ...extraEnv },
    cwd: env.tmp,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const lines = () =>
    Deno.readTextFileSync(result).split("\n").filter((l) => l !== "")
      .map((l) => JSON.parse(l));
  const read = (path: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return "";
    }
  };
  const status = child.status;
  const command = (async () => {
    for (;;) {
      const line = lines().find((l) => "command" in l);
      if (line) return line.command as number;
      const done = await Promise.race([
        status.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 10)),
      ]);
      if (done && !lines().some((l) => "command" in l)) {
        throw new Error(`reaper failed: ${read(err)}`);
      }
    }
  })();
  const orphans = status.then((s) => {
    if (!s.success) throw new Error(`reaper failed: ${read(err)}`);
    return lines().filter((l) => "pid" in l) as Reaped[];
  });
  return {
    command,
    orphans,
    output: () => ({ stdout: read(out), stderr: read(err) }),
  };
}
