/**
 * `deno task test:vendor [DIR]`: builds a runtime that includes a vendor's
 * plugins and runs the vendor's tests against it, as a vendor's CI would
 * (default DIR: `examples/acme-plugin`).
 *
 * DIR holds `remoteproc-runtime.plugins.json` and `*_test.ts` files written
 * against the test kit. The runtime is built in a temp copy of this
 * checkout (so this checkout's own plugin list is untouched): the plugin
 * list is copied beside its deno.json with paths made absolute, and
 * `tools/bundle.ts` checks the plugins, writes `plugins/vendor.gen.ts` and
 * bundles. Then:
 * - the bundle itself (`dist/js/cli.js`) must list every configured plugin
 *   in `features`: the vendor code is in the built runtime;
 * - `deno test` runs in DIR with `REMOTEPROC_RUNTIME_BIN` set to the copy's
 *   launcher, which the test kit's harness runs.
 *
 * @module
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PLUGINS_CONFIG } from "../plugins/vendor.ts";

const PROJECT = fileURLToPath(new URL("..", import.meta.url)).replace(
  /\/$/,
  "",
);
/** What the copy needs besides node_modules and the Deno cache (linked). */
const COPIED = [
  "bin",
  "cli",
  "cli.ts",
  "core",
  "deno.json",
  "deno.lock",
  "fixtures",
  "mod.ts",
  "package.json",
  "plugin.ts",
  "plugins",
  "proxy.ts",
  "sim",
  "testing",
  "tools",
];
const say = (line: string) =>
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));

async function deno(args: string[], cwd: string, env = {}): Promise<number> {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return code;
}

async function main(dir: string): Promise<number> {
  const config = join(dir, PLUGINS_CONFIG);
  const { plugins } = JSON.parse(Deno.readTextFileSync(config)) as {
    plugins: string[];
  };
  const copy = Deno.makeTempDirSync({ prefix: "rprt-vendor-" });
  try {
    for (const name of COPIED) {
      await new Deno.Command("cp", {
        args: ["-a", join(PROJECT, name), copy],
      }).output();
    }
    Deno.mkdirSync(join(PROJECT, ".cache"), { recursive: true });
    Deno.symlinkSync(join(PROJECT, "node_modules"), join(copy, "node_modules"));
    Deno.symlinkSync(join(PROJECT, ".cache"), join(copy, ".cache"));
    Deno.writeTextFileSync(
      join(copy, PLUGINS_CONFIG),
      JSON.stringify({
        plugins: plugins.map((p) =>
          p.startsWith("./") || p.startsWith("../") || isAbsolute(p)
            ? resolve(dirname(config), p)
            : p
        ),
      }),
    );
    if (await deno(["run", "-q", "-A", "tools/bundle.ts"], copy) !== 0) {
      say("test:vendor: the runtime with the vendor plugins did not build");
      return 1;
    }
    // The bundle, not the sources, must hold the vendor plugins.
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-q", "-A", join(copy, "dist/js/cli.js"), "features"],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const listed: string = JSON.parse(new TextDecoder().decode(out.stdout))
      .annotations["org.remoteproc-runtime.plugins"];
    const sources = JSON.parse(new TextDecoder().decode(out.stdout))
      .annotations;
    const configured = listed.split(",").filter((name) =>
      JSON.parse(sources[`org.remoteproc-runtime.plugin.${name}`]).source
        .startsWith("configuration: ")
    );
    if (configured.length === 0) {
      say(
        `test:vendor: the bundle lists no configured plugin (plugins: ${listed})`,
      );
      return 1;
    }
    say(`test:vendor: the bundle includes ${configured.join(", ")}`);
    return await deno(["test", "-q", "-A"], dir, {
      REMOTEPROC_RUNTIME_BIN: join(copy, "bin/remoteproc-runtime"),
    });
  } finally {
    Deno.removeSync(copy, { recursive: true });
  }
}

if (import.meta.main) {
  Deno.exit(await main(resolve(Deno.args[0] ?? "examples/acme-plugin")));
}
