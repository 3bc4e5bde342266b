/**
 * Reading the program's sources, for tests that check what the build tools
 * must know about them.
 *
 * @module
 */
import assert from "node:assert/strict";
import { PROJECT } from "../../tools/bundle.ts";
import { VERBS } from "../../cli/verbs.ts";

const SOURCE_DIRS = ["", "cli", "core", "plugins"];

/**
 * The program's modules (not tests, tools or the simulator): the top-level
 * ones and everything under cli/, core/ and plugins/.
 *
 * @returns Project-relative paths and texts.
 */
export function sources(): { path: string; text: string }[] {
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

/**
 * Every module the sources load with `lazyImport()`, read from the calls
 * themselves (each must name a literal path, but cli.ts's, which loads a
 * verb's module from the verb table: those are added from the table).
 *
 * @returns Project-relative paths.
 */
export function lazyImportTargets(): Set<string> {
  const targets = new Set<string>();
  for (const { path, text } of sources()) {
    if (path === "core/util/lazy.ts") continue;
    const calls = text.matchAll(
      /lazyImport\s*(?:<(?:[^<>]|<[^<>]*>)*>)?\s*\(\s*("[^"]*"|[^)\s]+)/g,
    );
    for (const m of calls) {
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
    "the scan finds the known calls",
  );
  return targets;
}
