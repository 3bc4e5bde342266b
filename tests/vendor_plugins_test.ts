import assert from "node:assert/strict";
import { join } from "node:path";
import { generate, PluginConfigError } from "../tools/plugins.ts";
import { definePlugin, PLUGIN_API_VERSIONS } from "../plugin.ts";
import { allPlugins, pluginSource, selectPlugin } from "../plugins/registry.ts";
import { vendorPlugins } from "../plugins/vendor.ts";

const API = new URL("../plugin.ts", import.meta.url).href;

/** A temp vendor repo: modules by name, and the plugin list. */
function vendorRepo(
  modules: Record<string, string>,
  plugins: string[],
): { dir: string; config: string; out: string } {
  const dir = Deno.makeTempDirSync({ prefix: "rprt-vendor-unit-" });
  for (const [name, text] of Object.entries(modules)) {
    Deno.writeTextFileSync(join(dir, name), text);
  }
  const config = join(dir, "remoteproc-runtime.plugins.json");
  Deno.writeTextFileSync(config, JSON.stringify({ plugins }));
  return { dir, config, out: join(dir, "vendor.gen.ts") };
}

async function failure(config: string, out: string): Promise<string> {
  const error = await generate(config, out).then(
    () => assert.fail("generate succeeded"),
    (e) => e,
  );
  assert.ok(error instanceof PluginConfigError, String(error));
  assert.ok(!error.message.includes("\n"), error.message);
  return error.message;
}

const plugin = (name: string, apiVersion: number) =>
  `import { definePlugin } from ${JSON.stringify(API)};
export default definePlugin({
  apiVersion: ${apiVersion},
  name: ${JSON.stringify(name)},
  description: "test",
  matches: (d) => d.driver === "acme-rproc",
});
`;

Deno.test("plugin list: a listed module is imported statically by the generated module", async () => {
  const repo = vendorRepo({ "acme.ts": plugin("acme", 1) }, ["./acme.ts"]);
  try {
    assert.deepEqual(await generate(repo.config, repo.out), ["acme"]);
    const text = Deno.readTextFileSync(repo.out);
    assert.match(text, /^import \* as m0 from "\.\.\/.*\/acme\.ts";$/m);
    assert.match(text, /\{ entry: "\.\/acme\.ts", module: m0 \}/);
    assert.doesNotMatch(text, /import\(/);
  } finally {
    Deno.removeSync(repo.dir, { recursive: true });
  }
});

Deno.test("plugin list: a missing module fails in one line naming it", async () => {
  const repo = vendorRepo({}, ["./gone.ts"]);
  try {
    assert.match(
      await failure(repo.config, repo.out),
      /^plugin module \.\/gone\.ts: not found /,
    );
    assert.throws(() => Deno.statSync(repo.out), Deno.errors.NotFound);
  } finally {
    Deno.removeSync(repo.dir, { recursive: true });
  }
});

Deno.test("plugin list: a module that exports no plugin fails in one line naming it", async () => {
  const repo = vendorRepo(
    {
      "a.ts": "export const x = 1;\n",
      "b.ts": "export default { name: 1 };\n",
    },
    ["./a.ts"],
  );
  try {
    assert.match(
      await failure(repo.config, repo.out),
      /^plugin module \.\/a\.ts: has no default export/,
    );
    Deno.writeTextFileSync(
      repo.config,
      JSON.stringify({ plugins: ["./b.ts"] }),
    );
    assert.match(
      await failure(repo.config, repo.out),
      /^plugin module \.\/b\.ts: does not export a plugin/,
    );
  } finally {
    Deno.removeSync(repo.dir, { recursive: true });
  }
});

Deno.test("plugin list: a plugin written for another API version fails, saying which this runtime supports", async () => {
  const repo = vendorRepo({ "v9.ts": plugin("acme", 9) }, ["./v9.ts"]);
  try {
    const message = await failure(repo.config, repo.out);
    assert.match(message, /^plugin module \.\/v9\.ts: /);
    assert.match(
      message,
      new RegExp(
        `plugin acme: written for plugin API version 9; this runtime supports ${
          PLUGIN_API_VERSIONS.join(", ")
        }$`,
      ),
    );
  } finally {
    Deno.removeSync(repo.dir, { recursive: true });
  }
});

Deno.test("plugin list: a vendor plugin may not take a built-in name, nor a malformed list pass", async () => {
  const repo = vendorRepo({ "imx.ts": plugin("imx", 1) }, ["./imx.ts"]);
  try {
    assert.match(
      await failure(repo.config, repo.out),
      /^plugin module \.\/imx\.ts: plugin name "imx" is already taken/,
    );
    Deno.writeTextFileSync(repo.config, JSON.stringify({ plugin: [] }));
    assert.match(await failure(repo.config, repo.out), /expected \{ "plugins"/);
  } finally {
    Deno.removeSync(repo.dir, { recursive: true });
  }
});

Deno.test("registry: configured vendor plugins match before the built-ins and say where they come from", () => {
  const acme = definePlugin({
    apiVersion: 1,
    name: "acme",
    description: "test",
    matches: (d) => d.driver === "imx-rproc",
  });
  const pairs = vendorPlugins([{
    entry: "./acme.ts",
    module: { default: acme },
  }], [
    "imx",
  ]);
  assert.deepEqual(pairs.map((p) => p.entry), ["./acme.ts"]);
  const device = {
    index: "remoteproc0",
    dir: "/d",
    name: "m4",
    driver: "imx-rproc",
    compatible: [],
  };
  assert.equal(
    selectPlugin(device, {}, [...pairs.map((p) => p.plugin), ...allPlugins()])
      .name,
    "acme",
  );
  // This checkout configures none: every plugin is built in.
  assert.deepEqual(
    allPlugins().map(pluginSource),
    allPlugins().map(() => "built-in"),
  );
});
