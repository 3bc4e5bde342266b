/**
 * The static, ordered plugin registry and the rule that picks exactly one
 * plugin per processor: the `remoteproc.plugin` annotation names one
 * explicitly; otherwise the first registered plugin whose `matches` is true;
 * otherwise `generic`.
 *
 * @module
 */
import { ConfigError } from "../core/errors.ts";
import type { Device } from "../core/sysfs.ts";
import { genericPlugin } from "./generic.ts";
import {
  DEFAULT_START_POLICY,
  DEFAULT_STOP_POLICY,
  type Plugin,
  type StartPolicy,
  type StopPolicy,
} from "./types.ts";

/** Annotation that names a plugin explicitly. */
export const PLUGIN_ANNOTATION = "remoteproc.plugin";

/** SoC plugins in match order; `generic` is the fallback, not listed. */
export const PLUGINS: readonly Plugin[] = [];

/**
 * Every plugin, the fallback last.
 *
 * @returns The plugins in match order.
 */
export function allPlugins(): readonly Plugin[] {
  return [...PLUGINS, genericPlugin];
}

/**
 * Picks the plugin for a processor.
 *
 * @param device The processor.
 * @param annotations The container's annotations.
 * @returns The plugin.
 * @throws {ConfigError} When the annotation names no plugin.
 */
export function selectPlugin(
  device: Device,
  annotations: Readonly<Record<string, string>> = {},
): Plugin {
  const plugins = allPlugins();
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
 * Finds a plugin by name.
 *
 * @param name A plugin name stored in a container record.
 * @returns The plugin, or `generic` when the name is unknown.
 */
export function pluginByName(name: string): Plugin {
  return allPlugins().find((p) => p.name === name) ?? genericPlugin;
}

/**
 * The plugin's start policy, defaults filled in.
 *
 * @param plugin A plugin.
 * @returns The full policy.
 */
export function startPolicyOf(plugin: Plugin): StartPolicy {
  return { ...DEFAULT_START_POLICY, ...plugin.startPolicy };
}

/**
 * The plugin's stop policy, defaults filled in.
 *
 * @param plugin A plugin.
 * @returns The full policy.
 */
export function stopPolicyOf(plugin: Plugin): StopPolicy {
  return { ...DEFAULT_STOP_POLICY, ...plugin.stopPolicy };
}
