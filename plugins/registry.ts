/**
 * The static, ordered plugin registry and the rule that picks exactly one
 * plugin per processor: the `remoteproc.plugin` annotation names one
 * explicitly; otherwise the first plugin whose `matches` is true, in this
 * order: vendor profiles (by file name), then the vendor plugin modules of
 * the configuration (built in by `tools/plugins.ts`), then
 * {@linkcode PLUGINS}; otherwise `generic`.
 *
 * Vendor profiles are JSON files in {@linkcode PROFILES_DIR} under the
 * sysroot. They are read only by the verbs that select a plugin (`create`,
 * `start`, `delete`, `features`), and the zod-based parser is imported only
 * when there is a profile to read.
 *
 * @module
 */
import { join } from "../core/util/posix_path.ts";
import { ConfigError } from "../core/util/errors.ts";
import { PLUGIN_ANNOTATION } from "../core/container/annotations.ts";
import { hostPath, PROFILES_DIR } from "../core/container/paths.ts";
import { lazyImport } from "../core/util/lazy.ts";
import type { Device } from "../core/device/sysfs.ts";
import { genericPlugin } from "./generic.ts";
import { PLUGINS } from "./builtin.ts";
import type { Plugin, PluginRegistry } from "../core/plugin/types.ts";
import { vendorPlugins } from "./vendor.ts";
import { VENDOR_MODULES } from "./vendor.gen.ts";

export { PLUGINS };

/** Where each plugin comes from, for `features`. */
const SOURCES = new WeakMap<Plugin, string>();

let configured: readonly Plugin[] | undefined;

/**
 * The vendor plugins of the configuration, in its order (checked again
 * here: a stale generated module fails with one line, like the build).
 *
 * @returns The plugins.
 * @throws {ConfigError} Naming the module at fault.
 */
export function configuredPlugins(): readonly Plugin[] {
  if (!configured) {
    const pairs = vendorPlugins(
      VENDOR_MODULES,
      [...PLUGINS, genericPlugin].map((p) => p.name),
    );
    for (const { plugin, entry } of pairs) {
      SOURCES.set(plugin, `configuration: ${entry}`);
    }
    configured = pairs.map((p) => p.plugin);
  }
  return configured;
}

/**
 * Where a plugin comes from: `built-in`, `configuration: <entry>` (a vendor
 * module built in) or `profile: <file>` (a JSON profile).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pluginSource, PLUGINS } from "./registry.ts";
 *
 * assert.equal(pluginSource(PLUGINS[0]!), "built-in");
 * ```
 *
 * @param plugin A plugin of the registry.
 * @returns Its source.
 */
export function pluginSource(plugin: Plugin): string {
  return SOURCES.get(plugin) ?? "built-in";
}

/**
 * The plugins built into the runtime, the fallback last (no vendor
 * profiles): the configured vendor modules, then {@linkcode PLUGINS}.
 *
 * @example The built-ins with the fallback last
 * ```ts
 * import assert from "node:assert/strict";
 * import { allPlugins } from "./registry.ts";
 *
 * assert.equal(allPlugins().at(-1)?.name, "generic");
 * ```
 *
 * @returns The plugins in match order.
 */
export function allPlugins(): readonly Plugin[] {
  return [...configuredPlugins(), ...PLUGINS, genericPlugin];
}

/**
 * Every plugin in match order: vendor profiles, configured vendor modules,
 * built-ins, `generic`.
 *
 * @example Without profiles, the built-ins
 * ```ts
 * import assert from "node:assert/strict";
 * import { allPlugins, loadPlugins } from "./registry.ts";
 *
 * const sysroot = Deno.makeTempDirSync();
 * const plugins = await loadPlugins(sysroot);
 * assert.deepEqual(plugins.map((p) => p.name), allPlugins().map((p) => p.name));
 * Deno.removeSync(sysroot, { recursive: true });
 * ```
 *
 * @param sysroot The sysroot the profile directory is under.
 * @returns The plugins.
 * @throws {ConfigError} Naming the profile file and field at fault.
 */
export async function loadPlugins(sysroot: string): Promise<readonly Plugin[]> {
  const dir = hostPath(sysroot, PROFILES_DIR);
  let files: string[];
  try {
    files = [...Deno.readDirSync(dir)]
      .filter((e) => (e.isFile || e.isSymlink) && e.name.endsWith(".json"))
      .map((e) => e.name).sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return allPlugins();
    throw new ConfigError(
      `cannot read plugin profiles in ${dir}: ${(error as Error).message}`,
    );
  }
  if (files.length === 0) return allPlugins();
  const { parseProfile, profilePlugin } = await lazyImport<
    typeof import("./profile.ts")
  >("plugins/profile.ts");
  const profiles: Plugin[] = [];
  const builtIn = new Set(allPlugins().map((p) => p.name));
  for (const name of files) {
    const file = join(dir, name);
    const profile = parseProfile(Deno.readTextFileSync(file), file);
    if (
      builtIn.has(profile.name) || profiles.some((p) => p.name === profile.name)
    ) {
      throw new ConfigError(
        `plugin profile ${file}: field name: ${
          JSON.stringify(profile.name)
        } is already taken by another plugin`,
      );
    }
    const plugin = profilePlugin(profile, file);
    SOURCES.set(plugin, `profile: ${file}`);
    profiles.push(plugin);
  }
  return [...profiles, ...allPlugins()];
}

/**
 * Picks the plugin for a processor.
 *
 * @example The driver picks the plugin; an unknown name is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectPlugin } from "./registry.ts";
 * import { PLUGIN_ANNOTATION } from "../core/container/annotations.ts";
 * import { ConfigError } from "../core/util/errors.ts";
 *
 * const device = {
 *   index: "remoteproc0",
 *   dir: "/sys/class/remoteproc/remoteproc0",
 *   name: "r5f",
 *   driver: "k3_r5_rproc",
 *   compatible: ["ti,am64-r5f"],
 * };
 * assert.equal(selectPlugin(device).name, "ti-k3");
 * assert.equal(
 *   selectPlugin(device, { [PLUGIN_ANNOTATION]: "generic" }).name,
 *   "generic",
 * );
 * assert.throws(
 *   () => selectPlugin(device, { [PLUGIN_ANNOTATION]: "acme" }),
 *   ConfigError,
 * );
 * ```
 *
 * @param device The processor.
 * @param annotations The container's annotations.
 * @param plugins The plugins in match order (default: the built-ins).
 * @returns The plugin.
 * @throws {ConfigError} When the annotation names no plugin.
 */
export function selectPlugin(
  device: Device,
  annotations: Readonly<Record<string, string>> = {},
  plugins: readonly Plugin[] = allPlugins(),
): Plugin {
  const wanted = annotations[PLUGIN_ANNOTATION];
  if (wanted !== undefined) {
    const plugin = plugins.find((p) => p.name === wanted);
    if (!plugin) {
      throw new ConfigError(
        `annotation ${PLUGIN_ANNOTATION} names no plugin: ${
          JSON.stringify(wanted)
        } (available: ${plugins.map((p) => p.name).join(", ")})`,
      );
    }
    return plugin;
  }
  return plugins.find((p) => p.matches(device)) ?? genericPlugin;
}

/**
 * Finds a plugin by the name stored in a container record. Vendor profiles
 * are read only when the name is not a built-in.
 *
 * @param name A plugin name.
 * @param sysroot The sysroot (for vendor profiles).
 * @returns The plugin, or `generic` when the name is unknown.
 */
export async function pluginByName(
  name: string,
  sysroot: string,
): Promise<Plugin> {
  const builtIn = allPlugins().find((p) => p.name === name);
  if (builtIn) return builtIn;
  return (await loadPlugins(sysroot)).find((p) => p.name === name) ??
    genericPlugin;
}

/**
 * The built-in registry the CLI hands the core: vendor profiles under the
 * sysroot, then {@linkcode PLUGINS}, then `generic`.
 *
 * @example The record's plugin, or the fallback for an unknown name
 * ```ts
 * import assert from "node:assert/strict";
 * import { registry } from "./registry.ts";
 *
 * assert.equal((await registry.byName("imx", "/nonexistent")).name, "imx");
 * assert.equal((await registry.byName("gone", "/nonexistent")).name, "generic");
 * assert.equal(registry.fallback.name, "generic");
 * ```
 */
export const registry: PluginRegistry = {
  async select(device, annotations, sysroot) {
    return selectPlugin(device, annotations, await loadPlugins(sysroot));
  },
  byName: pluginByName,
  fallback: genericPlugin,
};
