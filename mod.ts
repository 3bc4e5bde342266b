/**
 * remoteproc-runtime as a library: the OCI operations the CLI runs, the
 * runtime context, the typed errors, the SoC plugin API and the simulator.
 *
 * @example Deploy firmware to a simulated processor
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import {
 *   create,
 *   deleteContainer,
 *   openRuntime,
 *   Simulator,
 *   start,
 *   state,
 * } from "./mod.ts";
 * import { makeElf } from "./fixtures/make_elf.ts";
 *
 * const tmp = Deno.makeTempDirSync();
 * const sim = await Simulator.create({
 *   root: join(tmp, "sys"),
 *   processors: [{ name: "m4" }],
 * });
 * const rt = openRuntime({ sysroot: sim.root });
 * // A bundle: config.json naming the processor, the firmware in the rootfs.
 * const bundle = join(tmp, "bundle");
 * Deno.mkdirSync(join(bundle, "rootfs"), { recursive: true });
 * Deno.writeFileSync(join(bundle, "rootfs", "fw.elf"), makeElf());
 * Deno.writeTextFileSync(
 *   join(bundle, "config.json"),
 *   JSON.stringify({
 *     ociVersion: "1.0.2",
 *     process: { args: ["fw.elf"], cwd: "/" },
 *     root: { path: "rootfs" },
 *     annotations: { "remoteproc.name": "m4" },
 *   }),
 * );
 * try {
 *   await create(rt, { id: "c1", bundle });
 *   await start(rt, "c1");
 *   assert.equal((await state(rt, "c1")).status, "running");
 * } finally {
 *   await deleteContainer(rt, { id: "c1", force: true });
 *   await sim.close();
 *   Deno.removeSync(tmp, { recursive: true });
 * }
 * ```
 *
 * @module
 */
import {
  openRuntime as openCoreRuntime,
  type Runtime,
  type RuntimeOptions,
} from "./core/runtime.ts";
import { features as featuresOf } from "./core/ops/features.ts";
import { allPlugins, pluginSource, registry } from "./plugins/registry.ts";
import type { Plugin } from "./core/plugin/types.ts";

/** `create`: validate the bundle and firmware, claim the processor, spawn the proxy. */
export { create, type CreateOptions } from "./core/ops/create.ts";
/** `start`: deploy the firmware and start the processor. */
export { start } from "./core/ops/start.ts";
/** `kill`: TERM/INT stop the processor, KILL kills the proxy. */
export { kill, type KillOptions } from "./core/ops/kill.ts";
/** `delete`: remove a container, stopping a processor left running. */
export { deleteContainer, type DeleteOptions } from "./core/ops/delete.ts";
/** `state`, `list` and `ps`: report containers without changing them. */
export { list, type OciState, processes, state } from "./core/ops/state.ts";
/** `processors`: each remote processor, its state, plugin and holder. */
export { listProcessors, type ProcessorInfo } from "./core/ops/processors.ts";
/** Which processor a container asks for: annotations, its pod's, `REMOTEPROC_NAME`. */
export {
  NAME_ENV,
  type Place,
  type Selection,
  type SelectionInput,
  type Selector,
  SELECTORS,
  selectProcessor,
} from "./core/device/selection.ts";
/** Pod sandboxes, recognised by the CRI runtimes' annotations. */
export { isSandbox } from "./core/firmware/bundle.ts";
/** The context every operation takes (roots, sysfs access, plugins). */
export type { Runtime, RuntimeOptions } from "./core/runtime.ts";
/** Sysfs access, the one way to a processor. */
export {
  createSysfs,
  type Device,
  type DeviceRef,
  type StateCommand,
  type StateReader,
  type Sysfs,
  type SysfsOptions,
  type TraceReader,
} from "./core/device/sysfs.ts";
export type { ContainerRecord } from "./core/container/record.ts";
export type { Status } from "./core/container/status.ts";
export type { Roots } from "./core/container/paths.ts";
/** Firmware ELF validation, as the kernel's loader checks. */
export {
  archMachine,
  type Endianness,
  type FirmwareInfo,
  parseFirmware,
  type ParseFirmwareOptions,
  type ResourceEntry,
  type ResourceKind,
  type ResourceTable,
  type TraceEntry,
} from "./core/firmware/elf.ts";
/** Typed errors, each with its exit code. */
export {
  ConfigError,
  ContainerExistsError,
  ContainerNotFoundError,
  DeviceError,
  FirmwareError,
  InvalidStateError,
  RuntimeError,
  StateError,
  UsageError,
} from "./core/util/errors.ts";
/** The SoC plugin API: define a plugin, its hooks and policies. */
export {
  DEFAULT_START_POLICY,
  DEFAULT_STOP_POLICY,
  definePlugin,
  type FirmwareImage,
  type FirmwareMachines,
  type FirmwarePlacement,
  type Operation,
  type Plugin,
  PLUGIN_API_VERSION,
  PLUGIN_API_VERSIONS,
  type PluginContext,
  type PluginDefinition,
  type PluginRegistry,
  type StartPolicy,
  type StateMeaning,
  type StopPolicy,
} from "./core/plugin/types.ts";
/** The registry: built-in plugins, vendor profiles, and selection. */
export {
  allPlugins,
  configuredPlugins,
  loadPlugins,
  PLUGINS,
  pluginSource,
  registry,
  selectPlugin,
} from "./plugins/registry.ts";
export { PLUGIN_ANNOTATION } from "./core/container/annotations.ts";
export { PROFILES_DIR } from "./core/container/paths.ts";
/** The built-in plugins. */
export { genericPlugin } from "./plugins/generic.ts";
export { imxPlugin } from "./plugins/imx.ts";
export { stm32mpPlugin } from "./plugins/stm32mp.ts";
export { tiK3Plugin } from "./plugins/ti_k3.ts";
/** The remoteproc simulator, for tests and demos without hardware. */
export {
  type ProcessorSpec,
  Simulator,
  type SimulatorOptions,
} from "./sim/simulator.ts";

/**
 * Builds the runtime context; the plugins default to the built-in
 * {@linkcode registry} (with vendor profiles).
 *
 * @param options Roots, sysfs and plugins (all optional).
 * @returns The context.
 */
export function openRuntime(options: RuntimeOptions = {}): Runtime {
  return openCoreRuntime({ ...options, plugins: options.plugins ?? registry });
}

/**
 * `features`: the OCI features document.
 *
 * @param plugins The plugins to list (default: the built-ins).
 * @returns The document.
 */
export function features(
  plugins: readonly Plugin[] = allPlugins(),
): Record<string, unknown> {
  return featuresOf(plugins, pluginSource);
}
