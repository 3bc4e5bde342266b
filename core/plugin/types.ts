/**
 * The SoC plugin interface. A plugin is a plain object made with
 * {@linkcode definePlugin}: a `name`, a `matches(device)` predicate and
 * optional hooks. Exactly one plugin applies to a processor, chosen by a
 * {@linkcode PluginRegistry} (the built-in one is `plugins/registry.ts`,
 * given to the core through the runtime context: plugins import the core,
 * never the reverse); the core asks the plugin and never tests a vendor
 * name itself.
 *
 * Every hook is optional and says how it combines with the core's own
 * behaviour. In short: the core's checks always run and a plugin can only
 * add to them (firmware validation, the offline check before `start`); a
 * plugin's values replace the defaults field by field (policies, naming);
 * state aliases override the generic table entry by entry.
 *
 * @module
 */
import type { FirmwareInfo } from "../firmware/elf.ts";
import type { Device, Sysfs } from "../device/sysfs.ts";
import { ConfigError } from "../util/errors.ts";

/**
 * The plugin API version this runtime implements: the hooks of
 * {@linkcode Plugin} and how each combines with the core. A plugin names
 * the version it was written against in {@linkcode definePlugin}; a change
 * to a hook's meaning or combination rule makes a new version.
 */
export const PLUGIN_API_VERSION = 1;

/**
 * Every plugin API version this runtime accepts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PLUGIN_API_VERSION, PLUGIN_API_VERSIONS } from "./types.ts";
 *
 * assert.ok(PLUGIN_API_VERSIONS.includes(PLUGIN_API_VERSION));
 * ```
 */
export const PLUGIN_API_VERSIONS: readonly number[] = [1];

/**
 * What a hook gets to look at.
 *
 * @example Ask a plugin which firmware format a core loads
 * ```ts
 * import assert from "node:assert/strict";
 * import type { PluginContext } from "./types.ts";
 * import { stm32mpPlugin } from "../../plugins/stm32mp.ts";
 * import { createSysfs } from "../device/sysfs.ts";
 *
 * const context: PluginContext = {
 *   device: {
 *     index: "remoteproc0",
 *     dir: "/sys/class/remoteproc/remoteproc0",
 *     name: "m4",
 *     driver: "stm32-rproc",
 *     compatible: ["st,stm32mp1-m4"],
 *   },
 *   sysfs: createSysfs({ sysroot: "/tmp/sim" }),
 *   annotations: {},
 * };
 * assert.equal(stm32mpPlugin.firmwareFormat?.(context), "elf");
 * ```
 */
export interface PluginContext {
  /** The processor. */
  readonly device: Device;
  /** Sysfs access (the only way to touch the processor). */
  readonly sysfs: Sysfs;
  /** The container's annotations. */
  readonly annotations: Readonly<Record<string, string>>;
}

/**
 * What a kernel state means for a container that was started:
 * `running` (our firmware runs), `stopped` (it does not, the container has
 * stopped), `crashed` (it stopped unexpectedly; the kernel may recover it),
 * `transient` (keep looking: the state is on its way somewhere).
 *
 * @example A core whose driver reports `suspended` while it runs
 * ```ts
 * import type { StateMeaning } from "./types.ts";
 *
 * const stateAliases: Record<string, StateMeaning> = { suspended: "running" };
 * ```
 */
export type StateMeaning = "running" | "stopped" | "crashed" | "transient";

/**
 * How the proxy starts a processor.
 *
 * @example Retry a start that timed out
 * ```ts
 * import type { StartPolicy } from "./types.ts";
 *
 * const policy: StartPolicy = {
 *   timeoutMs: 10_000,
 *   retries: 2,
 *   retryOn: ["ETIMEDOUT"],
 *   retryDelayMs: 200,
 *   hints: { EPERM: "the core is owned by the secure world" },
 * };
 * ```
 */
export interface StartPolicy {
  /** How long to wait for `running` after writing `start`. */
  timeoutMs: number;
  /** How many more times to write `start` after a retryable error. */
  retries: number;
  /** errno codes (`ETIMEDOUT`) after which `start` is written again. */
  retryOn: string[];
  /** Pause between attempts. */
  retryDelayMs: number;
  /** Advice appended to a start failure, by errno (`EPERM`: "…"). */
  hints: Record<string, string>;
}

/**
 * How a processor is stopped (by the proxy, `delete` and a rollback).
 *
 * @example Wait longer for a firmware shutdown handshake
 * ```ts
 * import type { StopPolicy } from "./types.ts";
 *
 * const policy: StopPolicy = {
 *   timeoutMs: 15_000,
 *   retries: 2,
 *   retryOn: ["EBUSY"],
 *   retryDelayMs: 1_000,
 *   hints: { EBUSY: "add a shutdown handler to the firmware" },
 * };
 * ```
 */
export interface StopPolicy {
  /** How long to wait for `offline` after writing `stop`. */
  timeoutMs: number;
  /** How many more times to write `stop` after a retryable error. */
  retries: number;
  /** errno codes (`EBUSY`) after which `stop` is written again. */
  retryOn: string[];
  /** Pause between attempts. */
  retryDelayMs: number;
  /** Advice appended to a stop failure, by errno. */
  hints: Record<string, string>;
}

/**
 * The default start policy: the kernel's own semantics, one attempt.
 *
 * @example Override one field of the default
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_START_POLICY, type StartPolicy } from "./types.ts";
 *
 * const policy: StartPolicy = { ...DEFAULT_START_POLICY, retries: 2 };
 * assert.equal(policy.timeoutMs, DEFAULT_START_POLICY.timeoutMs);
 * assert.equal(DEFAULT_START_POLICY.retries, 0);
 * ```
 */
export const DEFAULT_START_POLICY: Readonly<StartPolicy> = {
  timeoutMs: 10_000,
  retries: 0,
  retryOn: [],
  retryDelayMs: 100,
  hints: {},
};

/**
 * The default stop policy: one attempt.
 *
 * @example Override one field of the default
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_STOP_POLICY, type StopPolicy } from "./types.ts";
 *
 * const policy: StopPolicy = { ...DEFAULT_STOP_POLICY, retryOn: ["EBUSY"] };
 * assert.equal(policy.timeoutMs, DEFAULT_STOP_POLICY.timeoutMs);
 * assert.deepEqual(DEFAULT_STOP_POLICY.retryOn, []);
 * ```
 */
export const DEFAULT_STOP_POLICY: Readonly<StopPolicy> = {
  timeoutMs: 5_000,
  retries: 0,
  retryOn: [],
  retryDelayMs: 100,
  hints: {},
};

/**
 * Where a stored firmware copy goes and what it is called. The name is
 * written to the processor's `firmware` attribute as `directory/name`,
 * relative to the firmware directory.
 *
 * @example DSP firmware in its own directory
 * ```ts
 * import type { FirmwarePlacement } from "./types.ts";
 *
 * const placement: FirmwarePlacement = {
 *   directory: "imx/dsp",
 *   template: "{device}-{stamp}-{rand}{ext}",
 * };
 * ```
 */
export interface FirmwarePlacement {
  /**
   * Subdirectory of the firmware directory (`imx/dsp`), relative, without
   * `..`; default none.
   */
  directory?: string;
  /**
   * File name template; default `{stem}-{stamp}-{rand}{ext}`. Variables:
   * `{stem}` and `{ext}` of the source file, `{stamp}` (UTC, basic ISO
   * 8601), `{rand}` (8 hex digits, required: it keeps names unique),
   * `{device}` (the processor name) and `{index}` (`remoteprocN`). The
   * result is sanitised to `[A-Za-z0-9._-]`.
   */
  template?: string;
}

/**
 * The firmware image as `create` read it.
 *
 * @example A checkFirmware hook that wants a resource table
 * ```ts
 * import assert from "node:assert/strict";
 * import type { FirmwareImage } from "./types.ts";
 * import { parseFirmware } from "../firmware/elf.ts";
 * import { makeElf } from "../../fixtures/make_elf.ts";
 *
 * const bytes = makeElf();
 * const image: FirmwareImage = {
 *   path: "/srv/bundles/fw1/rootfs/fw.elf",
 *   bytes,
 *   format: "elf",
 *   info: parseFirmware(bytes),
 * };
 * assert.equal(image.info?.hasResourceTable, false);
 * ```
 */
export interface FirmwareImage {
  /** The file in the rootfs (host path). */
  readonly path: string;
  /** Its contents. */
  readonly bytes: Uint8Array;
  /** The format the plugin declared (`elf` unless it said otherwise). */
  readonly format: string;
  /** What the ELF parser found; undefined for a non-ELF format. */
  readonly info: FirmwareInfo | undefined;
}

/**
 * The ELF machines a processor runs, declared by its plugin.
 *
 * @example A Cortex-M core
 * ```ts
 * import type { FirmwareMachines } from "./types.ts";
 *
 * const machines: FirmwareMachines = { machines: [40], core: "a Cortex-M core" };
 * ```
 */
export interface FirmwareMachines {
  /** Accepted `e_machine` values (`40` for ARM). */
  readonly machines: readonly number[];
  /** What the core is, for the message (`a Cortex-M core`). */
  readonly core: string;
}

/**
 * An operation a device may refuse.
 *
 * @example Refuse to deploy to a core started by the bootloader
 * ```ts
 * import assert from "node:assert/strict";
 * import { definePlugin, type Operation } from "./types.ts";
 *
 * const plugin = definePlugin({
 *   apiVersion: 1,
 *   name: "acme",
 *   description: "ACME MCU cores",
 *   matches: (device) => device.driver === "acme-rproc",
 *   refuses: (operation: Operation) =>
 *     operation === "deploy" ? "the boot ROM owns this core" : undefined,
 * });
 * assert.equal(plugin.refuses?.("stop", {} as never), undefined);
 * ```
 */
export type Operation = "deploy" | "stop";

/**
 * A SoC plugin. Every hook is optional; the generic behaviour applies where
 * a hook is absent.
 *
 * @example A plugin that only changes the stop policy
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Plugin } from "./types.ts";
 *
 * const acme: Plugin = {
 *   name: "acme",
 *   description: "ACME MCU cores: slow firmware shutdown",
 *   matches: (device) => device.compatible.includes("acme,mcu"),
 *   stopPolicy: { timeoutMs: 20_000 },
 * };
 * assert.ok(acme.matches({
 *   index: "remoteproc0",
 *   dir: "/sys/class/remoteproc/remoteproc0",
 *   name: "mcu",
 *   driver: undefined,
 *   compatible: ["acme,mcu"],
 * }));
 * ```
 */
export interface Plugin {
  /**
   * The plugin API version the plugin was written against (set by
   * {@linkcode definePlugin}; required of a plugin listed in the
   * configuration).
   */
  readonly apiVersion?: number;
  /** Unique name; the `remoteproc.plugin` annotation selects by it. */
  readonly name: string;
  /** One line for `features` and docs. */
  readonly description: string;
  /**
   * Annotations the plugin honours, with what they mean (listed by
   * `features`).
   */
  readonly annotations?: Readonly<Record<string, string>>;
  /**
   * The Kubernetes resource the device plugin advertises this plugin's
   * processors as, after `remoteproc.io/` (`cortex-m4`); default: the
   * processor's name. A DNS label: lower-case letters, digits and `-`.
   */
  readonly resource?: string;
  /**
   * Whether the plugin applies to this processor. The first plugin in the
   * registry whose predicate is true wins; it must only read the device
   * facts (name, driver, compatibles), never write.
   */
  matches(device: Device): boolean;
  /**
   * Whether the device refuses an operation, and why: return a message that
   * says why and what to do, or undefined to allow it. `deploy` is asked by
   * `create` (so a hopeless container fails early) and again by `start`;
   * `stop` by `delete` before it stops a processor. A refusal is final: the
   * core reports it as a device error and does nothing else.
   */
  refuses?(operation: Operation, context: PluginContext): string | undefined;
  /**
   * The firmware format this device loads. `elf` (the default) makes the
   * core parse the image like the kernel's ELF loader and refuse a bad one;
   * any other name (`stm32-tee-signed`) leaves the checking to
   * {@linkcode Plugin.checkFirmware}. The name is recorded in the
   * `remoteproc.firmware.format` annotation.
   */
  firmwareFormat?(context: PluginContext): string;
  /**
   * The ELF machines this processor runs. For an `elf` image the core then
   * refuses any other `e_machine`, saying the image is built for another
   * core. It is also the only way to accept an image built for the host's
   * own architecture (`x86-64`, `AArch64`): without it, the core takes such
   * an image for a Linux program and refuses it. Undefined or an empty
   * list: any machine but the host's.
   */
  firmwareMachines?(context: PluginContext): FirmwareMachines | undefined;
  /**
   * Extra checks of the image at `create`, after the core's (which always
   * run for `elf`): throw a `FirmwareError` saying what is wrong and what
   * to do. Example: a mandatory resource table.
   */
  checkFirmware?(image: FirmwareImage, context: PluginContext): void;
  /**
   * Where the firmware copy goes and how it is named; replaces the default
   * field by field.
   */
  firmwarePlacement?(context: PluginContext): FirmwarePlacement;
  /**
   * Kernel state string -> meaning, over the generic table (offline,
   * detached, deleted, invalid, attached, suspended -> stopped; running ->
   * running; crashed -> crashed) entry by entry. Recorded at `create`, so
   * `state` never loads a plugin.
   */
  readonly stateAliases?: Readonly<Record<string, StateMeaning>>;
  /**
   * Called by `start` before the firmware name is written, while the
   * container's operation lock is held: the place to bring the core to
   * `offline` (stop a core the bootloader started, where the control method
   * allows). Throw a `DeviceError` to refuse. Whatever it does, the core
   * then requires `offline` itself: it never writes firmware or `start` to
   * a core in any other state.
   */
  prepareStart?(context: PluginContext): Promise<void> | void;
  /**
   * Overrides of {@linkcode DEFAULT_START_POLICY}, merged field by field;
   * an object, or a function of the device for plugins whose cores differ.
   */
  readonly startPolicy?:
    | Partial<StartPolicy>
    | ((device: Device) => Partial<StartPolicy>);
  /** Overrides of {@linkcode DEFAULT_STOP_POLICY}, like `startPolicy`. */
  readonly stopPolicy?:
    | Partial<StopPolicy>
    | ((device: Device) => Partial<StopPolicy>);
}

/** What {@linkcode definePlugin} takes: a plugin and its API version. */
export interface PluginDefinition extends Plugin {
  /**
   * The plugin API version the plugin was written against; one of
   * {@linkcode PLUGIN_API_VERSIONS}.
   */
  readonly apiVersion: number;
}

/**
 * Defines a plugin: checks the API version it was written against and
 * returns the object, typed. A plugin module listed in the configuration is
 * imported when the runtime is built, so a mismatch fails the build.
 *
 * @example A plugin for a made-up SoC
 * ```ts
 * import { definePlugin } from "./types.ts";
 * const acme = definePlugin({
 *   apiVersion: 1,
 *   name: "acme",
 *   description: "ACME MCU cores",
 *   matches: (device) => device.driver === "acme-rproc",
 *   startPolicy: { retries: 2, retryOn: ["ETIMEDOUT"] },
 * });
 * ```
 *
 * @example A version this runtime does not implement is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { definePlugin } from "./types.ts";
 *
 * assert.throws(
 *   () => definePlugin({
 *     apiVersion: 99,
 *     name: "acme",
 *     description: "ACME MCU cores",
 *     matches: () => false,
 *   }),
 *   /plugin acme: written for plugin API version 99; this runtime supports 1/,
 * );
 * ```
 *
 * @param plugin The plugin object.
 * @returns The same object.
 * @throws {ConfigError} When this runtime does not support its API version.
 */
export function definePlugin(plugin: PluginDefinition): Plugin {
  checkApiVersion(plugin);
  return plugin;
}

/**
 * Checks that a plugin names an API version this runtime supports.
 *
 * @param plugin The plugin.
 * @throws {ConfigError} Naming the plugin, its version and the supported ones.
 */
export function checkApiVersion(plugin: Plugin): void {
  if (!PLUGIN_API_VERSIONS.includes(plugin.apiVersion as number)) {
    throw new ConfigError(
      `plugin ${plugin.name}: written for plugin API version ${
        plugin.apiVersion ?? "(none)"
      }; this runtime supports ${PLUGIN_API_VERSIONS.join(", ")}`,
    );
  }
}

/**
 * The plugins a runtime chooses from. The core never imports a plugin: the
 * caller hands it a registry in the runtime context (`plugins/registry.ts`
 * builds the built-in one, with vendor profiles).
 */
export interface PluginRegistry {
  /**
   * The plugin for a processor: the one the `remoteproc.plugin` annotation
   * names, else the first that matches (vendor profiles first), else
   * {@linkcode PluginRegistry.fallback}.
   *
   * @param device The processor.
   * @param annotations The container's annotations.
   * @param sysroot The sysroot vendor profiles are read under.
   * @returns The plugin.
   * @throws {ConfigError} When the annotation names no plugin, or a vendor
   * profile is bad.
   */
  select(
    device: Device,
    annotations: Readonly<Record<string, string>>,
    sysroot: string,
  ): Promise<Plugin>;
  /**
   * The plugin a container record names (vendor profiles are read only
   * when it is not a built-in); the fallback when the name is unknown.
   *
   * @param name A plugin name.
   * @param sysroot The sysroot vendor profiles are read under.
   * @returns The plugin.
   */
  byName(name: string, sysroot: string): Promise<Plugin>;
  /** The plugin used where none applies or the recorded one is lost. */
  readonly fallback: Plugin;
}

function resolvePolicy<T>(
  value: Partial<T> | ((device: Device) => Partial<T>) | undefined,
  device: Device,
): Partial<T> {
  return typeof value === "function" ? value(device) : value ?? {};
}

/**
 * The plugin's start policy for a processor, defaults filled in.
 *
 * @example A plugin without a policy gets the defaults
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_START_POLICY, definePlugin, startPolicyOf } from "./types.ts";
 *
 * const plugin = definePlugin({
 *   apiVersion: 1,
 *   name: "x",
 *   description: "x",
 *   matches: () => true,
 *   startPolicy: (device) => ({ retries: device.name === "m4" ? 2 : 0 }),
 * });
 * const device = {
 *   index: "remoteproc0",
 *   dir: "/d",
 *   name: "m4",
 *   driver: undefined,
 *   compatible: [],
 * };
 * assert.deepEqual(startPolicyOf(plugin, device), {
 *   ...DEFAULT_START_POLICY,
 *   retries: 2,
 * });
 * ```
 *
 * @param plugin A plugin.
 * @param device The processor.
 * @returns The full policy.
 */
export function startPolicyOf(plugin: Plugin, device: Device): StartPolicy {
  return {
    ...DEFAULT_START_POLICY,
    ...resolvePolicy(plugin.startPolicy, device),
  };
}

/**
 * The plugin's stop policy for a processor, defaults filled in.
 *
 * @param plugin A plugin.
 * @param device The processor.
 * @returns The full policy.
 */
export function stopPolicyOf(plugin: Plugin, device: Device): StopPolicy {
  return {
    ...DEFAULT_STOP_POLICY,
    ...resolvePolicy(plugin.stopPolicy, device),
  };
}
