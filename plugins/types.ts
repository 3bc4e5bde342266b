/**
 * The SoC plugin interface. A plugin is a plain object made with
 * {@linkcode definePlugin}: a `name`, a `matches(device)` predicate and
 * optional hooks. Exactly one plugin applies to a processor (see
 * `registry.ts`); the core asks it and never tests a vendor name itself.
 *
 * @module
 */
import type { Device, Sysfs } from "../core/sysfs.ts";

/** What a hook gets to look at. */
export interface PluginContext {
  /** The processor. */
  readonly device: Device;
  /** Sysfs access (the only way to touch the processor). */
  readonly sysfs: Sysfs;
  /** The container's annotations. */
  readonly annotations: Readonly<Record<string, string>>;
}

/** How the proxy starts a processor. */
export interface StartPolicy {
  /** How long to wait for `running` after writing `start`. */
  timeoutMs: number;
  /** How many more times to write `start` after a retryable error. */
  retries: number;
  /** errno codes (`ETIMEDOUT`) after which `start` is written again. */
  retryOn: string[];
  /** Pause between attempts. */
  retryDelayMs: number;
}

/** How the proxy stops a processor. */
export interface StopPolicy {
  /** How long to wait for `offline` after writing `stop`. */
  timeoutMs: number;
}

/** The default start policy: the kernel's own semantics, one attempt. */
export const DEFAULT_START_POLICY: Readonly<StartPolicy> = {
  timeoutMs: 10_000,
  retries: 0,
  retryOn: [],
  retryDelayMs: 100,
};

/** The default stop policy. */
export const DEFAULT_STOP_POLICY: Readonly<StopPolicy> = { timeoutMs: 5_000 };

/**
 * A SoC plugin. Every hook is optional; the generic behaviour applies where
 * a hook is absent.
 */
export interface Plugin {
  /** Unique name; the `remoteproc.plugin` annotation selects by it. */
  readonly name: string;
  /** One line for `features` and docs. */
  readonly description: string;
  /**
   * Whether the plugin applies to this processor. The first plugin in the
   * registry whose predicate is true wins.
   */
  matches(device: Device): boolean;
  /**
   * Called by `start` before the firmware name is written, while the
   * container's operation lock is held. Throw a `DeviceError` to refuse.
   * The generic behaviour requires the processor to be offline.
   */
  prepareStart?(context: PluginContext): Promise<void> | void;
  /** Overrides of {@linkcode DEFAULT_START_POLICY}, merged field by field. */
  readonly startPolicy?: Partial<StartPolicy>;
  /** Overrides of {@linkcode DEFAULT_STOP_POLICY}, merged field by field. */
  readonly stopPolicy?: Partial<StopPolicy>;
}

/**
 * Identity helper that types a plugin object.
 *
 * @example A plugin for a made-up SoC
 * ```ts
 * import { definePlugin } from "./types.ts";
 * const acme = definePlugin({
 *   name: "acme",
 *   description: "ACME MCU cores",
 *   matches: (device) => device.driver === "acme-rproc",
 * });
 * ```
 *
 * @param plugin The plugin object.
 * @returns The same object.
 */
export function definePlugin(plugin: Plugin): Plugin {
  return plugin;
}
