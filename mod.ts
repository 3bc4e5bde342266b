/**
 * remoteproc-runtime as a library: the OCI operations on remote processors,
 * the simulator, and the SoC plugin interface.
 *
 * @example A lifecycle against the simulator
 * ```ts ignore
 * import { create, deleteContainer, kill, openRuntime, Simulator, start, state } from "./mod.ts";
 * const sim = await Simulator.create({ root: "/tmp/sim", processors: [{ name: "m4" }] });
 * const rt = openRuntime({ sysroot: sim.root });
 * await create(rt, { id: "fw", bundle: "fixtures/bundle" });
 * await start(rt, "fw");
 * console.log((await state(rt, "fw")).status); // "running"
 * await kill(rt, { id: "fw", signal: "TERM" });
 * await deleteContainer(rt, { id: "fw", force: true });
 * await sim.close();
 * ```
 *
 * @module
 */
export {
  openRuntime,
  type Runtime,
  type RuntimeOptions,
} from "./core/runtime.ts";
export { create, type CreateOptions } from "./core/create.ts";
export { start } from "./core/start.ts";
export { kill, type KillOptions } from "./core/kill.ts";
export { deleteContainer, type DeleteOptions } from "./core/delete.ts";
export { list, type OciState, processes, state } from "./core/state.ts";
export { features } from "./core/features.ts";
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
} from "./core/errors.ts";
export { createSysfs, type Device, type Sysfs } from "./core/sysfs.ts";
export { parseFirmware } from "./core/elf.ts";
export {
  definePlugin,
  type Plugin,
  type PluginContext,
} from "./plugins/types.ts";
export {
  type ProcessorSpec,
  Simulator,
  type SimulatorOptions,
} from "./sim/simulator.ts";
