/**
 * `processors`: what a board offers, for people and tools (the Kubernetes
 * device plugin reads the JSON form): each remote processor with its
 * index, name, kernel state, the plugin that matches it and the container
 * that holds it.
 *
 * @module
 */
import { claimOf } from "../device/claims.ts";
import { DeviceError } from "../util/errors.ts";
import { hostPath } from "../container/paths.ts";
import type { Runtime } from "../runtime.ts";

/** One processor as `processors` reports it. */
export interface ProcessorInfo {
  /** `remoteprocN`. */
  index: string;
  /** The `name` attribute. */
  name: string;
  /** The kernel's `state` (offline, running, attached, crashed...). */
  state: string;
  /** The plugin that matches it (by vendor profile, driver or compatible). */
  plugin: string;
  /** The id of the container that holds it, or null. */
  container: string | null;
}

/**
 * Lists the remote processors, ordered by index.
 *
 * @example Two simulated processors, one held by a container
 * ```ts
 * import assert from "node:assert/strict";
 * import { listProcessors } from "./processors.ts";
 * import { openRuntime } from "../runtime.ts";
 * import { registry } from "../../plugins/registry.ts";
 * import { Simulator } from "../../sim/simulator.ts";
 *
 * const tmp = Deno.makeTempDirSync();
 * const sim = await Simulator.create({
 *   root: tmp,
 *   processors: [{ name: "m4" }, { name: "dsp" }],
 * });
 * const list = await listProcessors(
 *   openRuntime({ sysroot: sim.root, plugins: registry }),
 * );
 * assert.deepEqual(list.map((p) => [p.index, p.name, p.state, p.container]), [
 *   ["remoteproc0", "m4", "offline", null],
 *   ["remoteproc1", "dsp", "offline", null],
 * ]);
 * await sim.close();
 * Deno.removeSync(tmp, { recursive: true });
 * ```
 *
 * @param rt The runtime context.
 * @returns One entry per processor.
 * @throws {DeviceError} When `/sys/class/remoteproc` does not exist.
 * @throws {ConfigError} When a vendor profile is invalid.
 */
export async function listProcessors(rt: Runtime): Promise<ProcessorInfo[]> {
  if (!rt.sysfs.hasClass()) {
    throw new DeviceError(
      `${
        hostPath(rt.roots.sysroot, "/sys/class/remoteproc")
      } does not exist: the kernel has no remoteproc support (CONFIG_REMOTEPROC) or its module is not loaded`,
    );
  }
  const processors: ProcessorInfo[] = [];
  for (const device of rt.sysfs.listDevices()) {
    const plugin = await rt.plugins.select(device, {}, rt.roots.sysroot);
    processors.push({
      index: device.index,
      name: device.name,
      state: rt.sysfs.readState(device),
      plugin: plugin.name,
      container: holder(rt, device.index),
    });
  }
  return processors;
}

/** The claim's container while its state directory exists (else stale). */
export function holder(rt: Runtime, index: string): string | null {
  const claim = claimOf(rt.roots, index);
  if (claim === undefined) return null;
  try {
    return Deno.statSync(claim.dir).isDirectory ? claim.id : null;
  } catch {
    return null;
  }
}
