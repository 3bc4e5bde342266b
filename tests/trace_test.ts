import assert from "node:assert/strict";
import { join } from "node:path";
import { RUNTIME_BIN, setUp } from "./helpers/harness.ts";
import { newTraceBytes } from "../core/proxy/trace.ts";

const encode = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * Runs `create` with its stdout and stderr kept in a file: the proxy
 * inherits them, as it inherits conmon's or the shim's pipes under an
 * engine, so the file is the container log.
 */
async function createWithLog(
  env: Awaited<ReturnType<typeof setUp>>,
  id: string,
  bundle: string,
): Promise<string> {
  const log = join(env.tmp, `${id}.log`);
  const status = await new Deno.Command("/bin/sh", {
    args: [
      "-c",
      'log=$1; shift; exec "$@" >"$log" 2>&1',
      "sh",
      log,
      RUNTIME_BIN,
    ]
      .concat(["create", "--bundle", bundle, id]),
    env: { REMOTEPROC_RUNTIME_SYSROOT: env.sysroot },
    cwd: env.tmp,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  assert.equal(status.code, 0, Deno.readTextFileSync(log));
  return log;
}

function tracePath(env: { sysroot: string }): string {
  return join(env.sysroot, "sys/kernel/debug/remoteproc/remoteproc0/trace0");
}

Deno.test("new trace text is what was appended", () => {
  assert.equal(
    decode(newTraceBytes(encode("boot\n"), encode("boot\nhi\n"))),
    "hi\n",
  );
  assert.equal(decode(newTraceBytes(encode("same"), encode("same"))), "");
  assert.equal(decode(newTraceBytes(encode(""), encode("first\n"))), "first\n");
});

Deno.test("after a wrap only the overwritten front of the ring buffer is new", () => {
  const before = encode("aaaa\nbbbb\ncccc\n");
  const after = encode("dddd\nbbbb\ncccc\n");
  assert.equal(decode(newTraceBytes(before, after)), "dddd\n");
});

Deno.test("a buffer that no longer starts with what was seen is new as a whole", () => {
  assert.equal(
    decode(newTraceBytes(encode("old boot\n"), encode("new\n"))),
    "new\n",
  );
});

Deno.test("firmware trace output and lifecycle lines reach the proxy's stdout, old output is not repeated", async () => {
  await using env = await setUp([{ name: "m4", trace: true }]);
  env.sim.trace(0, "left over from an earlier run\n");
  const log = await createWithLog(env, "c1", env.bundle());
  const started = await env.run(["start", "c1"]);
  assert.equal(started.code, 0, started.stderr);
  const text = () => Deno.readTextFileSync(log);
  await env.until(() => text().includes("deployed and running"));

  env.sim.trace(0, "hello from m4\n");
  await env.until(() => text().includes("hello from m4\n"));

  env.sim.trace(0, "half a ");
  await new Promise((r) => setTimeout(r, 300));
  env.sim.trace(0, "line\n");
  await env.until(() => text().includes("half a line\n"));

  // The firmware wraps: it overwrites its buffer from the start.
  const old = Deno.readTextFileSync(tracePath(env));
  const wrapped = "WRAPPED\n" + old.slice("WRAPPED\n".length);
  Deno.writeTextFileSync(tracePath(env), wrapped);
  await env.until(() => text().includes("WRAPPED\n"));

  assert.equal((await env.run(["kill", "c1", "TERM"])).code, 0);
  await env.until(() => text().includes("stopped on request"));
  const lines = text().split("\n");
  assert.equal(lines.filter((l) => l === "hello from m4").length, 1);
  assert.equal(lines.filter((l) => l === "half a line").length, 1);
  assert.ok(!text().includes("left over"), text());
  assert.ok(
    lines.findIndex((l) => l.includes("deployed and running")) <
      lines.indexOf("hello from m4"),
  );
});

Deno.test("a crash is logged after the firmware's last trace output", async () => {
  await using env = await setUp([{
    name: "m4",
    trace: true,
    recovery: "disabled",
  }]);
  const log = await createWithLog(env, "c1", env.bundle());
  assert.equal((await env.run(["start", "c1"])).code, 0);
  const text = () => Deno.readTextFileSync(log);
  await env.until(() => text().includes("deployed and running"));
  env.sim.trace(0, "assert failed: main.c:42\n");
  env.sim.crash(0);
  await env.until(() => text().includes("stopped: crashed"));
  const out = text();
  assert.ok(out.includes("assert failed: main.c:42\n"), out);
  assert.ok(
    out.indexOf("assert failed") < out.indexOf("crashed (recovery disabled)"),
    out,
  );
});

Deno.test("without a trace buffer the proxy logs lifecycle lines only", async () => {
  await using env = await setUp([{ name: "m4" }]);
  const log = await createWithLog(env, "c1", env.bundle());
  assert.equal((await env.run(["start", "c1"])).code, 0);
  const text = () => Deno.readTextFileSync(log);
  await env.until(() => text().includes("deployed and running"));
  assert.equal((await env.run(["kill", "c1", "TERM"])).code, 0);
  await env.until(() => text().includes("stopped on request"));
  assert.deepEqual(
    text().trim().split("\n").map((l) => l.replace(/: .*/, "")),
    ["remoteproc-runtime", "remoteproc-runtime"],
  );
});
