/**
 * NXP i.MX: `imx-rproc` (Cortex-M4/M7/M33) and `imx-dsp-rproc` (HiFi4 DSP).
 *
 * Quirks, from drivers/remoteproc/imx_rproc.c and imx_dsp_rproc.c
 * (remoteproc-facts.md 3a):
 * - A core the bootloader started reads `attached` and `firmware` reads
 *   `unknown`. Where the control method allows it (TF-A SMC on 8MN/8MP/93,
 *   MMIO on 6SX/7D/8MQ/8MM, SCU on 8QXP/8QM) `stop` works: the plugin stops
 *   it, then the runtime loads ours (annotation `remoteproc.attached=refuse`
 *   turns that off).
 * - i.MX7ULP/8ULP (`fsl,imx7ulp-cm4`, `fsl,imx8ulp-cm33`) have no control
 *   method: the core is always started by the bootloader and `stop` gives
 *   EOPNOTSUPP, so deploying is refused with what to do instead.
 * - DSP firmware lives under `imx/dsp/` in the firmware directory (the
 *   upstream DT `firmware-name` is `imx/dsp/hifi4.bin`), and `start` waits
 *   for the DSP's `rxdb` doorbell and fails with ETIMEDOUT when it does not
 *   ring in time: the start is retried twice.
 * - Cortex-M images must be ARM ELF (e_machine 40), DSP images Xtensa
 *   (94). The kernel does not check e_machine; the check is this runtime's,
 *   and the HiFi4 machine value is inferred, not read in a source.
 * - Resource table: optional (the driver overrides parse_fw).
 *
 * Not handled, because it cannot be detected from sysfs: the i.MX8MP
 * freezes on `start` unless U-Boot ran `prepare_mcore` (community reports);
 * the i.MX93 SError on start and the 8MM "old image runs again" report
 * have no confirmed cause. See docs/plugins/imx.md.
 *
 * @module
 */
import { label } from "../core/device/sysfs.ts";
import type { Device } from "../core/device/sysfs.ts";
import {
  ATTACHED_ANNOTATION,
  ATTACHED_DOC,
  EM,
  hasCompatible,
  stopAttached,
} from "./_common.ts";
import { definePlugin, type Plugin } from "../core/plugin/types.ts";

const DRIVERS = ["imx-rproc", "imx-dsp-rproc"];
const COMPATIBLE = /^fsl,imx[0-9a-z]+-(cm4|cm7|cm7-mmio|cm33|hifi4)$/;
/** Cores with no start method: always started by the bootloader. */
const NO_CONTROL = ["fsl,imx7ulp-cm4", "fsl,imx8ulp-cm33"];

function isDsp(device: Device): boolean {
  return device.driver === "imx-dsp-rproc" ||
    hasCompatible(device, /^fsl,imx[0-9a-z]+-hifi4$/);
}

/**
 * The i.MX plugin.
 *
 * @example Matching a processor
 * ```ts
 * import assert from "node:assert/strict";
 * import { imxPlugin } from "./imx.ts";
 *
 * assert.equal(imxPlugin.name, "imx");
 * assert.ok(imxPlugin.matches({
 *   index: "remoteproc0",
 *   dir: "/sys/class/remoteproc/remoteproc0",
 *   name: "core",
 *   driver: "imx-rproc",
 *   compatible: ["fsl,imx8mp-cm7"],
 * }));
 * ```
 */
export const imxPlugin: Plugin = definePlugin({
  apiVersion: 1,
  name: "imx",
  description:
    "NXP i.MX Cortex-M and HiFi4 DSP (imx-rproc, imx-dsp-rproc): stops bootloader-started cores, DSP firmware in imx/dsp/, ETIMEDOUT start retry",
  annotations: { [ATTACHED_ANNOTATION]: ATTACHED_DOC },
  matches: (device) =>
    (device.driver !== undefined && DRIVERS.includes(device.driver)) ||
    hasCompatible(device, COMPATIBLE),
  refuses(operation, { device, sysfs }) {
    if (operation !== "deploy" || !hasCompatible(device, NO_CONTROL)) {
      return undefined;
    }
    const state = sysfs.readState(device);
    if (state !== "attached" && state !== "detached") return undefined;
    return `${
      label(device)
    } is an i.MX7ULP/8ULP core started by the bootloader, and Linux cannot stop or restart it (stop and detach give EOPNOTSUPP): build the firmware into the boot image instead`;
  },
  firmwareMachines: ({ device }) =>
    isDsp(device)
      ? { machines: [EM.XTENSA], core: "a HiFi4 DSP" }
      : { machines: [EM.ARM], core: "a Cortex-M core" },
  firmwarePlacement: ({ device }) =>
    isDsp(device) ? { directory: "imx/dsp" } : {},
  prepareStart: (context) =>
    stopAttached(
      context,
      "its control method cannot stop it; load the firmware from the bootloader, or boot without starting the core (no U-Boot bootaux)",
    ),
  startPolicy: (device) =>
    isDsp(device)
      ? {
        retries: 2,
        retryOn: ["ETIMEDOUT"],
        retryDelayMs: 200,
        hints: {
          ETIMEDOUT:
            "the DSP did not ring its ready doorbell in time; check that the firmware signals ready over the mailbox (or load imx_dsp_rproc with no_mailboxes=1 for firmware without one)",
        },
      }
      : {},
});
