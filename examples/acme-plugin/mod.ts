/**
 * The ACME A1 plugin: an example of a vendor SoC plugin kept outside the
 * runtime's tree, built into the runtime from the configuration
 * (`remoteproc-runtime.plugins.json`) and tested with the test kit only.
 *
 * The made-up ACME A1 SoC has Cortex-M7 cores driven by `acme-rproc`. Its
 * firmware must carry a resource table and an `ACME-FW-VERSION=` note; the
 * core `m7_safety` runs the safety monitor from the boot image and is never
 * ours; a core the bootloader started must be power-cycled; a start
 * sometimes times out while the core's PLL locks.
 *
 * @module
 */
import {
  definePlugin,
  DeviceError,
  FirmwareError,
} from "@remoteproc/runtime/plugin";

export default definePlugin({
  apiVersion: 1,
  name: "acme",
  description: "ACME A1 Cortex-M7 (acme-rproc)",
  annotations: {
    "remoteproc.acme.min-version": "optional: lowest firmware version accepted",
  },
  matches: (device) => device.driver === "acme-rproc",
  refuses: (_operation, { device }) =>
    device.name === "m7_safety"
      ? "m7_safety runs the safety monitor from the boot image: deploy to m7_0 instead"
      : undefined,
  checkFirmware(image) {
    if (image.info && !image.info.hasResourceTable) {
      throw new FirmwareError(
        "has no .resource_table section: ACME cores need one",
      );
    }
    const text = new TextDecoder().decode(image.bytes);
    if (!text.includes("ACME-FW-VERSION=")) {
      throw new FirmwareError(
        "has no ACME-FW-VERSION note: build it with the ACME SDK",
      );
    }
  },
  firmwarePlacement: () => ({ directory: "acme" }),
  prepareStart({ device, sysfs }) {
    if (sysfs.readState(device) === "attached") {
      throw new DeviceError(
        `${device.name} was started by the bootloader: power-cycle it first`,
      );
    }
  },
  startPolicy: { retries: 2, retryOn: ["ETIMEDOUT"], retryDelayMs: 200 },
  stopPolicy: (device) =>
    device.name.startsWith("m7") ? { timeoutMs: 2_000 } : {},
});
