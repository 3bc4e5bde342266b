/**
 * Reading the program's sources, for tests that check what the build tools
 * must know about them.
 *
 * @module
 */
import assert from "node:assert/strict";
import { PROJECT } from "../../tools/bundle.ts";

const SOURCE_DIRS = ["", "cli", "core", "plugins"];

/**
 * The program's modules (not tests, tools or the simulator).
 *
 * @returns Project-relative paths and texts.
 */
export function sources(): { path: string; text: string }[] {
  const out = [];
  for (const dir of SOURCE_DIRS) {
    for (const entry of Deno.readDirSync(`${PROJECT}/${dir}`)) {
      if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      out.push({ path, text: Deno.readTextFileSync(`${PROJECT}/${path}`) });
    }
  }
  return out;
}

/**
 * Every module the sources load with `lazyImport()`, read from the calls
 * themselves (each must name a literal path).
 *
 * @returns Project-relative paths.
 */
export function lazyImportTargets(): Set<string> {
  const targets = new Set<string>();
  for (const { path, text } of sources()) {
    if (path === "core/lazy.ts") continue;
    const calls = text.matchAll(
      /lazyImport\s*(?:<(?:[^<>]|<[^<>]*>)*>)?\s*\(\s*("[^"]*"|[^)\s]+)/g,
    );
    for (const m of calls) {
      const literal = /^"([\w/]+\.ts)"$/.exec(m[1]!);
      assert.ok(literal, `${path}: lazyImport takes a literal path: ${m[1]}`);
      targets.add(literal[1]!);
    }
  }
  assert.ok(
    targets.has("cli/state.ts") && targets.has("core/record_schema.ts"),
    "the scan finds the known calls",
  );
  return targets;
}
