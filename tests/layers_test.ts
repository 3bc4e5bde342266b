/**
 * The layers of the source tree: `core/` is the runtime and imports nothing
 * of the project outside itself; plugins, the CLI and the proxy import the
 * core, never the reverse. The core gets the plugins it chooses from
 * through the runtime context (`Runtime.plugins`).
 */
import assert from "node:assert/strict";
import { PROJECT } from "../tools/bundle.ts";

/** Project-relative paths of the `.ts` files under a directory. */
function modulesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(`${PROJECT}/${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...modulesUnder(path));
    else if (entry.isFile && entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/**
 * The project modules a module loads: static imports and re-exports,
 * dynamic `import()` of a literal, and `lazyImport()` (project-relative).
 * Comments (doc examples) do not count.
 */
export function importsOf(path: string, text: string): string[] {
  const code = text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  const relative = [
    /^\s*(?:import|export)\b[^;"]*?\bfrom\s*"([^"]+)"/gm,
    /^\s*import\s*"([^"]+)"/gm,
    /\bimport\(\s*"([^"]+)"\s*\)/g,
  ];
  for (const pattern of relative) {
    for (const m of code.matchAll(pattern)) {
      if (!m[1]!.startsWith(".")) continue; // npm:, node:, bare packages
      out.push(new URL(m[1]!, `file:///p/${path}`).pathname.slice(3));
    }
  }
  const lazy = /\blazyImport\s*(?:<(?:[^<>]|<[^<>]*>)*>)?\s*\(\s*"([^"]+)"/g;
  for (const m of code.matchAll(lazy)) out.push(m[1]!);
  return out;
}

Deno.test("importsOf finds static, dynamic and lazy imports but not doc examples", () => {
  const text = [
    "/**",
    ' * import { x } from "../plugins/doc.ts";',
    " */",
    'import { a } from "./a.ts";',
    "import {",
    "  b,",
    '} from "../util/b.ts";',
    'export { c } from "./c.ts";',
    'import "./side.ts";',
    'import assert from "node:assert/strict";',
    'const d = await import("../../plugins/d.ts");',
    'const e = await lazyImport<typeof import("./e.ts")>("plugins/e.ts");',
    '// import { f } from "./f.ts";',
  ].join("\n");
  assert.deepEqual(importsOf("core/ops/x.ts", text).sort(), [
    "core/ops/a.ts",
    "core/ops/c.ts",
    "core/ops/e.ts",
    "core/ops/side.ts",
    "core/util/b.ts",
    "plugins/d.ts",
    "plugins/e.ts",
  ]);
});

Deno.test("core imports nothing of the project outside core/ (plugins import core, never the reverse)", () => {
  const outside: string[] = [];
  for (const path of modulesUnder("core")) {
    const text = Deno.readTextFileSync(`${PROJECT}/${path}`);
    for (const target of importsOf(path, text)) {
      if (!target.startsWith("core/")) outside.push(`${path} -> ${target}`);
    }
  }
  assert.deepEqual(outside, []);
});

Deno.test("no import cycle runs through core and plugins", () => {
  const modules = [...modulesUnder("core"), ...modulesUnder("plugins")];
  const graph = new Map<string, string[]>();
  for (const path of modules) {
    const text = Deno.readTextFileSync(`${PROJECT}/${path}`);
    graph.set(path, importsOf(path, text).filter((t) => modules.includes(t)));
  }
  // Every module reachable from a plugins/ module, and every module that
  // reaches one: a core module in both is on a cycle through plugins.
  const reach = (from: string[], edges: Map<string, string[]>) => {
    const seen = new Set<string>();
    const stack = [...from];
    while (stack.length > 0) {
      for (const next of edges.get(stack.pop()!) ?? []) {
        if (!seen.has(next)) {
          seen.add(next);
          stack.push(next);
        }
      }
    }
    return seen;
  };
  const reverse = new Map<string, string[]>();
  for (const [from, targets] of graph) {
    for (const t of targets) reverse.set(t, [...reverse.get(t) ?? [], from]);
  }
  const plugins = modules.filter((m) => m.startsWith("plugins/"));
  const fromPlugins = reach(plugins, graph);
  const toPlugins = reach(plugins, reverse);
  const onCycle = [...fromPlugins].filter((m) =>
    m.startsWith("core/") && toPlugins.has(m)
  );
  assert.deepEqual(onCycle, []);
  assert.ok(fromPlugins.has("core/plugin/types.ts"), "plugins use the core");
});

Deno.test("the verbs that pick no plugin (state, list, ps, kill) never load the configured vendor modules", () => {
  const reached = (entry: string) => {
    const seen = new Set<string>([entry]);
    const stack = [entry];
    while (stack.length > 0) {
      const path = stack.pop()!;
      const text = Deno.readTextFileSync(`${PROJECT}/${path}`);
      for (const next of importsOf(path, text)) {
        if (!seen.has(next) && next.endsWith(".ts")) {
          seen.add(next);
          stack.push(next);
        }
      }
    }
    return seen;
  };
  for (const verb of ["state", "list", "ps", "kill"]) {
    const graph = reached(`cli/${verb}.ts`);
    assert.ok(!graph.has("plugins/vendor.gen.ts"), verb);
    assert.ok(!graph.has("plugins/registry.ts"), verb);
  }
  // The verbs that pick a plugin do load them.
  assert.ok(reached("cli/create.ts").has("plugins/vendor.gen.ts"));
});
