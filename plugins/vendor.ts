/**
 * Vendor plugin modules, listed in the configuration
 * (`remoteproc-runtime.plugins.json` beside deno.json) and built into the
 * runtime: `tools/plugins.ts` checks the list and writes
 * `plugins/vendor.gen.ts`, which imports each listed module statically.
 * Nothing here imports code from a path chosen at run time.
 *
 * @module
 */
import { ConfigError } from "../core/util/errors.ts";
import { checkApiVersion, type Plugin } from "../core/plugin/types.ts";

/** The configuration file's name, beside deno.json. */
export const PLUGINS_CONFIG = "remoteproc-runtime.plugins.json";

/** One listed module, as `plugins/vendor.gen.ts` holds it. */
export interface VendorModule {
  /** The configuration entry (a path or a package specifier). */
  readonly entry: string;
  /** The module's namespace. */
  readonly module: { readonly default?: unknown };
}

/**
 * The plugins a listed module exports: its default export, a plugin made
 * with `definePlugin` or an array of them.
 *
 * @example A module without a default export is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { pluginsOf } from "./vendor.ts";
 *
 * assert.throws(
 *   () => pluginsOf({ entry: "./acme.ts", module: {} }),
 *   /^ConfigError: plugin module \.\/acme\.ts: /,
 * );
 * ```
 *
 * @param vendor The module and its entry.
 * @returns The plugins, in the module's order.
 * @throws {ConfigError} One line naming the entry and what is wrong.
 */
export function pluginsOf(vendor: VendorModule): Plugin[] {
  const fail = (problem: string): never => {
    throw new ConfigError(`plugin module ${vendor.entry}: ${problem}`);
  };
  const value = vendor.module.default;
  if (value === undefined) {
    fail("has no default export (export default definePlugin({ ... }))");
  }
  const plugins = Array.isArray(value) ? value : [value];
  if (plugins.length === 0) fail("its default export is an empty array");
  for (const plugin of plugins as unknown[]) {
    if (
      typeof plugin !== "object" || plugin === null ||
      typeof (plugin as Plugin).name !== "string" ||
      !/^[a-z0-9][a-z0-9._-]*$/.test((plugin as Plugin).name) ||
      typeof (plugin as Plugin).description !== "string" ||
      typeof (plugin as Plugin).matches !== "function"
    ) {
      fail(
        "does not export a plugin (a lower-case name, a description and matches(), made with definePlugin)",
      );
    }
    try {
      checkApiVersion(plugin as Plugin);
    } catch (error) {
      fail((error as Error).message);
    }
  }
  return plugins as Plugin[];
}

/**
 * The plugins of every listed module, in configuration order, each with its
 * entry; names must be unique among them and the built-ins.
 *
 * @param modules The listed modules.
 * @param builtIn Names already taken.
 * @returns Plugin and entry pairs.
 * @throws {ConfigError} One line naming the entry at fault.
 */
export function vendorPlugins(
  modules: readonly VendorModule[],
  builtIn: readonly string[],
): { plugin: Plugin; entry: string }[] {
  const taken = new Set(builtIn);
  const out: { plugin: Plugin; entry: string }[] = [];
  for (const vendor of modules) {
    for (const plugin of pluginsOf(vendor)) {
      if (taken.has(plugin.name)) {
        throw new ConfigError(
          `plugin module ${vendor.entry}: plugin name ${
            JSON.stringify(plugin.name)
          } is already taken by another plugin`,
        );
      }
      taken.add(plugin.name);
      out.push({ plugin, entry: vendor.entry });
    }
  }
  return out;
}
