import assert from "node:assert/strict";
import { ENTRIES, PROJECT, PROXY_ENTRY } from "../tools/bundle.ts";
import { moduleUrl, projectUrl } from "../core/util/lazy.ts";
import { VERBS } from "../cli/verbs.ts";

const SOURCE_DIRS = ["", "cli", "core", "plugins"];

function sources(): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (dir: string, deep: boolean) => {
    for (const entry of Deno.readDirSync(`${PROJECT}/${dir}`)) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory && deep) walk(path, deep);
      if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
      out.push({ path, text: Deno.readTextFileSync(`${PROJECT}/${path}`) });
    }
  };
  for (const dir of SOURCE_DIRS) walk(dir, dir !== "");
  return out;
}

Deno.test("every module loaded with lazyImport() is an entry of the bundle", () => {
  const targets = new Set<string>();
  for (const { path, text } of sources()) {
    if (path === "core/util/lazy.ts") continue;
    const calls = text.matchAll(
      /lazyImport\s*(?:<(?:[^<>]|<[^<>]*>)*>)?\s*\(\s*("[^"]*"|[^)\s]+)/g,
    );
    for (const m of calls) {
      // cli.ts loads a verb's module from the verb table.
      if (path === "cli.ts" && m[1] === "module") continue;
      const literal = /^"([\w/]+\.ts)"$/.exec(m[1]!);
      assert.ok(literal, `${path}: lazyImport takes a literal path: ${m[1]}`);
      targets.add(literal[1]!);
    }
  }
  for (const verb of Object.values(VERBS)) targets.add(verb.module);
  assert.ok(
    targets.has("cli/state.ts") &&
      targets.has("core/container/record_schema.ts"),
  );
  const entries = new Set<string>([...ENTRIES, PROXY_ENTRY]);
  for (const target of targets) {
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
