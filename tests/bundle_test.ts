import assert from "node:assert/strict";
import { ENTRIES, PROJECT, PROXY_ENTRY } from "../tools/bundle.ts";
import { moduleUrl, projectUrl } from "../core/util/lazy.ts";
import { lazyImportTargets, sources } from "./helpers/sources.ts";

Deno.test("every module loaded with lazyImport() is an entry of the bundle", () => {
  const entries = new Set<string>([...ENTRIES, PROXY_ENTRY]);
  for (const target of lazyImportTargets()) {
    assert.ok(entries.has(target), `${target} is missing from ENTRIES`);
    assert.ok(Deno.statSync(`${PROJECT}/${target}`).isFile);
  }
});

Deno.test("no source module imports an entry point (its import.meta.main would break in a chunk)", () => {
  for (const { path, text } of sources()) {
    for (const m of text.matchAll(/^import [^;]*? from "([^"]+)";/gms)) {
      const target = new URL(m[1]!, `file:///p/${path}`).pathname.slice(3);
      assert.ok(
        target !== "cli.ts" && target !== "proxy.ts",
        `${path} imports ${target}`,
      );
    }
  }
});

Deno.test("module paths resolve in the sources", () => {
  assert.equal(
    moduleUrl("cli/state.ts").href,
    `file://${PROJECT}/cli/state.ts`,
  );
  assert.equal(projectUrl("deno.json").href, `file://${PROJECT}/deno.json`);
});

async function launcherEntry(
  project: string,
  env: Record<string, string> = {},
): Promise<string> {
  const out = await new Deno.Command(`${project}/bin/remoteproc-runtime`, {
    args: ["state", "x"],
    env: { REMOTEPROC_RUNTIME_DENO: `${project}/fake-deno`, ...env },
    clearEnv: true,
    stdout: "piped",
  }).output();
  assert.equal(out.code, 0);
  const args = new TextDecoder().decode(out.stdout).trim().split("\n");
  return args[args.indexOf("state") - 1]!.slice(project.length + 1);
}

Deno.test("the launcher runs the bundle only while no source is newer", async () => {
  const project = Deno.makeTempDirSync({ prefix: "rprt-launcher-" });
  try {
    for (const dir of ["bin", "cli", "core/ops", "plugins", "dist/js"]) {
      Deno.mkdirSync(`${project}/${dir}`, { recursive: true });
    }
    Deno.copyFileSync(
      `${PROJECT}/bin/remoteproc-runtime`,
      `${project}/bin/remoteproc-runtime`,
    );
    // A deno that prints its arguments.
    Deno.writeTextFileSync(
      `${project}/fake-deno`,
      '#!/bin/sh\nfor a do echo "$a"; done\n',
      { mode: 0o755 },
    );
    const old = new Date(Date.now() - 60_000);
    for (const file of ["cli.ts", "core/x.ts", "core/ops/y.ts", "deno.json"]) {
      Deno.writeTextFileSync(`${project}/${file}`, "");
      Deno.utimeSync(`${project}/${file}`, old, old);
    }
    assert.equal(await launcherEntry(project), "cli.ts", "no bundle");

    Deno.writeTextFileSync(`${project}/dist/js/cli.js`, "");
    assert.equal(await launcherEntry(project), "dist/js/cli.js");
    assert.equal(
      await launcherEntry(project, { REMOTEPROC_RUNTIME_SOURCES: "1" }),
      "cli.ts",
    );

    const later = new Date(Date.now() + 5_000);
    Deno.utimeSync(`${project}/core/ops/y.ts`, later, later);
    assert.equal(
      await launcherEntry(project),
      "cli.ts",
      "stale bundle (core/ops)",
    );
    Deno.utimeSync(`${project}/core/x.ts`, later, later);
    assert.equal(await launcherEntry(project), "cli.ts", "stale bundle");
  } finally {
    Deno.removeSync(project, { recursive: true });
  }
});
