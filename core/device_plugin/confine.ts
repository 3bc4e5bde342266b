/**
 * What the device plugin may touch under Landlock (core/os/confinement.ts): it
 * reads sysfs, the runtime's state and claims (to tell a processor held by
 * a container from one held outside the runtime), and makes, serves and
 * removes its sockets in the kubelet's directory. Connecting to the
 * kubelet's socket needs no file right.
 *
 * @module
 */
import { basicReads, type Plan } from "../os/confinement.ts";
import type { Runtime } from "../runtime.ts";

/**
 * The device plugin's plan.
 *
 * @param rt The runtime context.
 * @param kubeletDir The kubelet's device-plugins directory (exists).
 * @param log `--log`, if given.
 * @returns The plan.
 */
export function devicePluginPlan(
  rt: Runtime,
  kubeletDir: string,
  log: string | undefined,
): Plan {
  return {
    read: basicReads(rt.roots),
    readWrite: [kubeletDir],
    write: log ? [log] : [],
    execute: [],
    noFollow: [],
  };
}
