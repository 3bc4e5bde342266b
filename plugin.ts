/**
 * The SoC plugin API, for plugins built into the runtime from the
 * configuration (`remoteproc-runtime.plugins.json`, see
 * docs/writing-a-plugin.md): {@linkcode definePlugin}, the hooks of
 * {@linkcode Plugin} and how each combines with the core, the errors a hook
 * throws and the device facts it sees. Import it as
 * `@remoteproc/runtime/plugin`.
 *
 * A plugin module's default export is the plugin (or an array of plugins),
 * made with `definePlugin({ apiVersion: 1, ... })`.
 *
 * @example A plugin module
 * ```ts
 * import { definePlugin, FirmwareError } from "./plugin.ts";
 *
 * export default definePlugin({
 *   apiVersion: 1,
 *   name: "acme",
 *   description: "ACME A1 Cortex-M7 (acme-rproc)",
 *   matches: (device) => device.driver === "acme-rproc",
 *   checkFirmware(image) {
 *     if (image.info && !image.info.hasResourceTable) {
 *       throw new FirmwareError("has no .resource_table section");
 *     }
 *   },
 * });
 * ```
 *
 * @module
 */
export {
  checkApiVersion,
  DEFAULT_START_POLICY,
  DEFAULT_STOP_POLICY,
  definePlugin,
  type FirmwareImage,
  type FirmwarePlacement,
  type Operation,
  type Plugin,
  PLUGIN_API_VERSION,
  PLUGIN_API_VERSIONS,
  type PluginContext,
  type PluginDefinition,
  type StartPolicy,
  type StateMeaning,
  type StopPolicy,
} from "./core/plugin/types.ts";
export type {
  Device,
  DeviceRef,
  StateCommand,
  StateReader,
  Sysfs,
  TraceReader,
} from "./core/device/sysfs.ts";
export type {
  Endianness,
  FirmwareInfo,
  ResourceEntry,
  ResourceKind,
  ResourceTable,
  TraceEntry,
} from "./core/firmware/elf.ts";
export {
  ConfigError,
  DeviceError,
  FirmwareError,
  RuntimeError,
} from "./core/util/errors.ts";
