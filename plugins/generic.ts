/**
 * The generic plugin: the kernel's own semantics, used where no SoC plugin
 * matches.
 *
 * @module
 */
import { DeviceError } from "../core/errors.ts";
import { label } from "../core/sysfs.ts";
import { definePlugin } from "./types.ts";

/** Kernel semantics only: start from offline, stop a running core. */
export const genericPlugin = definePlugin({
  name: "generic",
  description: "kernel remoteproc semantics, no SoC quirks",
  matches: () => true,
  prepareStart({ device, sysfs }) {
    // Never write start to a core that is not offline: since Linux 5.19 a
    // second start only bumps a refcount and a later stop leaves it running.
    const state = sysfs.readState(device);
    if (state !== "offline") {
      throw new DeviceError(
        `${
          label(device)
        } is not offline (it reads "${state}"): refusing to load firmware into it`,
      );
    }
  },
});
