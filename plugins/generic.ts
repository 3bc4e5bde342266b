/**
 * The generic plugin: the kernel's own semantics, used where no SoC plugin
 * matches. It needs no hooks: the core itself refuses a core that is not
 * offline (`attached` is firmware we did not load), validates ELF images,
 * and maps states with the generic table.
 *
 * @module
 */
import { assertOffline } from "../core/device/processor.ts";
import { definePlugin, type Plugin } from "../core/plugin/types.ts";

/**
 * Kernel semantics only: start from offline, stop a running core.
 *
 * @example Matching a processor
 * ```ts
 * import assert from "node:assert/strict";
 * import { genericPlugin } from "./generic.ts";
 *
 * assert.equal(genericPlugin.name, "generic");
 * assert.ok(genericPlugin.matches({
 *   index: "remoteproc0",
 *   dir: "/sys/class/remoteproc/remoteproc0",
 *   name: "core",
 *   driver: "sim-rproc",
 *   compatible: ["sim,rproc"],
 * }));
 * ```
 */
export const genericPlugin: Plugin = definePlugin({
  apiVersion: 1,
  name: "generic",
  description: "kernel remoteproc semantics, no SoC quirks",
  matches: () => true,
  prepareStart({ device, sysfs }) {
    // Never write start to a core that is not offline: since Linux 5.19 a
    // second start only bumps a refcount and a later stop leaves it running.
    assertOffline(sysfs, device);
  },
});
