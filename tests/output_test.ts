import assert from "node:assert/strict";
import { join } from "node:path";
import { fromFileUrl } from "./helpers/paths.ts";

const DENO = fromFileUrl(new URL("../tools/deno", import.meta.url));
const ESC = "\x1b[";

/** Runs `tools/deno test` on a failing test file; on a terminal through script(1). */
async function report(
  terminal: boolean,
  env: Record<string, string>,
): Promise<string> {
  const tmp = Deno.makeTempDirSync({ prefix: "rprt-output-" });
  try {
    const file = join(tmp, "fails_test.ts");
    Deno.writeTextFileSync(
      file,
      'Deno.test("fails", () => { throw new Error("boom"); });\n',
    );
    const command = `${DENO} test -q --no-config ${file}`;
    const { stdout, stderr } = await new Deno.Command(
      terminal ? "script" : "/bin/sh",
      {
        args: terminal ? ["-qec", command, "/dev/null"] : ["-c", command],
        env: { ...env, DENO_NO_UPDATE_CHECK: "1" },
        clearEnv: true,
        stdin: "null",
      },
    ).output();
    const text = new TextDecoder();
    return text.decode(stdout) + text.decode(stderr);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
}

const PATH = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };

Deno.test("Deno through tools/deno writes no colour codes into a pipe or a file", async () => {
  const out = await report(false, PATH);
  assert.match(out, /FAILED \| 0 passed \| 1 failed/);
  assert.ok(!out.includes(ESC), out);
});

Deno.test("Deno through tools/deno colours a terminal, unless NO_COLOR is set", async () => {
  const coloured = await report(true, PATH);
  assert.match(coloured, /FAILED/);
  assert.ok(coloured.includes(ESC), coloured);
  const plain = await report(true, { ...PATH, NO_COLOR: "1" });
  assert.match(plain, /FAILED \| 0 passed \| 1 failed/);
  assert.ok(!plain.includes(ESC), plain);
});
