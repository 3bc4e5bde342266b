/**
 * What only the compiled binary does, tested without denort: the modules
 * `deno compile` is told to embed, and the binary re-executing itself as its
 * proxy, through the stand-in tools/standalone.ts builds (`deno task
 * test:standalone` runs the whole black-box suite through it).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { compileArgs, ENTRY, INCLUDES } from "../tools/compile.ts";
import { PROJECT } from "../tools/bundle.ts";
import { buildStandIn, embeddedFiles } from "../tools/standalone.ts";
import { lazyImportTargets } from "./helpers/sources.ts";
import { setUp } from "./helpers/harness.ts";
import { proxies } from "./helpers/inspect.ts";

Deno.test("deno compile is told to include every module that lazyImport() loads", () => {
  const args = compileArgs("x86_64-unknown-linux-gnu", "/tmp/out");
  const included = new Set(
    args.filter((a) => a.startsWith("--include=")).map((a) =>
      a.slice("--include=".length)
    ),
  );
  for (const target of lazyImportTargets()) {
    assert.ok(
      included.has(join(PROJECT, target)),
      `${target} is loaded lazily but not given to deno compile`,
    );
  }
  assert.ok(included.has(join(PROJECT, "build_info.json")));
  assert.equal(args.at(-1), join(PROJECT, ENTRY));
});

Deno.test("the stand-in embeds what deno compile would: a lazily loaded module left out of --include is missing from it", async () => {
  const all = await embeddedFiles();
  for (const target of lazyImportTargets()) assert.ok(all.includes(target));
  assert.ok(all.includes("node_modules/zod"));
  assert.ok(!all.some((f) => f.startsWith("tests/") || f.startsWith("sim/")));
  // cli/ps.ts is reached only through lazyImport: without its --include,
  // the binary (and the stand-in) would lack it.
  const without = await embeddedFiles(
    INCLUDES.filter((m) => m !== "cli/ps.ts"),
  );
  assert.ok(!without.includes("cli/ps.ts"));
  assert.ok(without.includes("cli/state.ts"));
});

Deno.test("through the stand-in for the compiled binary, create re-executes it as the proxy (__proxy) under its Landlock rules", async () => {
  await using env = await setUp();
  const bin = await buildStandIn(join(env.tmp, "standalone"));
  const run = async (...args: string[]) => {
    const err = join(env.tmp, "standin.err");
    const { code } = await new Deno.Command("/bin/sh", {
      args: ["-c", 'e=$1; shift; exec "$@" >/dev/null 2>"$e"', "sh", err]
        .concat(bin, args),
      env: { REMOTEPROC_RUNTIME_SYSROOT: env.sysroot },
      cwd: env.tmp,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return { code, stderr: Deno.readTextFileSync(err) };
  };
  const created = await run("create", "--bundle", env.bundle(), "c1");
  assert.equal(created.code, 0, created.stderr);
  const started = await run("start", "c1");
  assert.equal(started.code, 0, started.stderr);
  assert.equal(env.sim.state(0), "running");
  const [pid] = proxies(env);
  assert.ok(pid, "a proxy runs");
  const cmdline = new TextDecoder().decode(
    new Deno.Command("/usr/bin/ps", {
      args: ["-o", "args=", "-p", String(pid)],
      stdout: "piped",
    }).outputSync().stdout,
  );
  // Ready (start waited for it): the stand-in's own deno run of its
  // cli.ts, with the hidden verb.
  assert.match(
    cmdline,
    new RegExp(`${env.tmp}/standalone/cli\\.ts __proxy `),
  );
  assert.equal((await run("kill", "c1", "TERM")).code, 0);
  await env.until(() => proxies(env).length === 0);
  assert.equal(env.sim.state(0), "offline");
});
