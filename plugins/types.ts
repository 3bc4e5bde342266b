/**
 * The SoC plugin interface. A plugin is a plain object made with
 * {@linkcode definePlugin}: a `name`, a `matches(device)` predicate and
 * optional hooks. Exactly one plugin applies to a processor (see
 * `registry.ts`); the core asks it and never tests a vendor name itself.
 *
 * Every hook is optional and says how it combines with the core's own
 * behaviour. In short: the core's checks always run and a plugin can only
 * add to them (firmware validation, the offline check before `start`); a
 * plugin's values replace the defaults field by field (policies, naming);
 * state aliases override the generic table entry by entry.
 *
 * @module
 */
import type { FirmwareInfo } from "../core/elf.ts";
import type { Device, Sysfs } from "../core/sysfs.ts";

/**
 * What a hook gets to look at.
 *
 * @example Ask a plugin which firmware format a core loads
 * ```ts
 * import assert from "node:assert/strict";
 * import type { PluginContext } from "./types.ts";
 * import { stm32mpPlugin } from "./stm32mp.ts";
 * import { createSysfs } from "../core/sysfs.ts";
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
 * import { parseFirmware } from "../core/elf.ts";
 * import { makeElf } from "../fixtures/make_elf.ts";
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
 * An operation a device may refuse.
 *
 * @example Refuse to deploy to a core started by the bootloader
 * ```ts
 * import assert from "node:assert/strict";
 * import { definePlugin, type Operation } from "./types.ts";
 *
 * const plugin = definePlugin({
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
   * Extra checks of the image at `create`, after the core's (which always
   * run for `elf`): throw a `FirmwareError` saying what is wrong and what
   * to do. Examples: a mandatory resource table, an expected machine.
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
 *   startPolicy: { retries: 2, retryOn: ["ETIMEDOUT"] },
 * });
 * ```
 *
 * @param plugin The plugin object.
 * @returns The same object.
 */
export function definePlugin(plugin: Plugin): Plugin {
  return plugin;
}
