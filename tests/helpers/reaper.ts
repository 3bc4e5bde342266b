/**
 * A child subreaper, as conmon and containerd's runc shim are: runs a
 * command (the runtime's `create`), becomes the parent of the proxy it
 * leaves behind, and reports how that proxy ends. Tests use it to see the
 * exit status an engine would report.
 *
 *   deno run -A tests/helpers/reaper.ts OUT -- COMMAND ARGS...
 *
 * Writes `command <code>` to OUT once the command ended, then `exit <pid>
 * <status>` for each orphan it reaps (the status as a shell gives it: the
 * exit code, or 128 + the signal), and exits when it has no child left.
 * Tests are exempt from the rule that only core/libc.ts loads native code.
 *
 * @module
 */
const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

const [out, dashes, command, ...args] = Deno.args;
if (!out || dashes !== "--" || !command) {
  throw new Error("usage: reaper.ts OUT -- COMMAND ARGS...");
}
const lib = Deno.dlopen("libc.so.6", {
  prctl: {
    parameters: ["i32", "u64", "u64", "u64", "u64"],
    result: "i32",
  },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
}).symbols;
if (lib.prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n) !== 0) {
  throw new Error("prctl(PR_SET_CHILD_SUBREAPER) failed");
}
const report = (line: string) =>
  Deno.writeTextFileSync(out, `${line}\n`, { append: true });

const status = await new Deno.Command(command, {
  args,
  stdin: "null",
  stdout: "inherit",
  stderr: "inherit",
}).output();
report(`command ${status.code}`);
// The command's own child is reaped by Deno; from here on every child is
// an orphan that was re-parented to us.
const raw = new Int32Array(1);
for (;;) {
  const pid = lib.waitpid(-1, new Uint8Array(raw.buffer), WNOHANG);
  if (pid < 0) break; // ECHILD: nobody left
  if (pid === 0) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    continue;
  }
  const w = raw[0]!;
  report(
    `exit ${pid} ${(w & 0x7f) === 0 ? (w >> 8) & 0xff : 128 + (w & 0x7f)}`,
  );
}
