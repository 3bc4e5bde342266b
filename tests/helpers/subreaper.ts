/**
 * A child subreaper, as conmon and containerd's shim are:
 *
 *   deno run -A tests/helpers/subreaper.ts RESULT_FILE COMMAND [ARGS...]
 *
 * It makes itself a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`), runs
 * COMMAND, appends `{"command":CODE}` to RESULT_FILE when it exits, then
 * reaps every process re-parented to it (the proxy that `create` left),
 * appending `{"pid":PID,"code":CODE,"signal":SIGNAL}` for each (code 128+N
 * for a signal N, as engines report it), and exits once no child is left.
 * It imports nothing, so it runs without the project's config.
 *
 * @module
 */
const PR_SET_CHILD_SUBREAPER = 36;

async function main([result, exe, ...args]: string[]): Promise<number> {
  if (!result || !exe) {
    Deno.stderr.writeSync(
      new TextEncoder().encode("usage: reaper.ts RESULT COMMAND [ARGS...]\n"),
    );
    return 2;
  }
  const libc = Deno.dlopen("libc.so.6", {
    prctl: {
      parameters: ["i32", "u64", "u64", "u64", "u64"],
      result: "i32",
    },
    waitpid: {
      parameters: ["i32", "buffer", "i32"],
      result: "i32",
      nonblocking: true,
    },
    __errno_location: { parameters: [], result: "pointer" },
  }).symbols;
  const errno = () =>
    new Deno.UnsafePointerView(libc.__errno_location()!).getInt32();
  if (libc.prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n) !== 0) {
    throw new Error(`prctl: errno ${errno()}`);
  }
  const append = (value: unknown) =>
    Deno.writeTextFileSync(result, JSON.stringify(value) + "\n", {
      append: true,
    });
  const status = await new Deno.Command(exe, {
    args,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  append({ command: status.code });
  // The command is reaped: whatever is left is an orphan re-parented here.
  const raw = new Int32Array(1);
  for (;;) {
    const pid = await libc.waitpid(-1, new Uint8Array(raw.buffer), 0);
    if (pid < 0) break; // ECHILD: none left (nothing here is interrupted)
    const w = raw[0]!;
    const signal = w & 0x7f;
    append({
      pid,
      code: signal === 0 ? (w >> 8) & 0xff : 128 + signal,
      signal,
    });
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
