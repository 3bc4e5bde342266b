/**
 * STMicroelectronics STM32MP1/MP2 (`stm32-rproc`, and ST's `-tee`
 * variants).
 *
 * Quirks, from drivers/remoteproc/stm32_rproc.c upstream and in ST's kernel
 * (remoteproc-facts.md 3b):
 * - A core the bootloader started reads `attached` (TAMP / PWR registers).
 *   `stop` sends on the `shutdown` mailbox and waits up to 500 ms for the
 *   firmware's ack (only a warning without one), so the stop write itself
 *   may take half a second: the plugin stops an attached core before
 *   loading ours (`remoteproc.attached=refuse` turns that off).
 * - TEE mode (`st,stm32mp1-m4-tee`, `st,stm32mp2-m33-tee`, ST's kernel
 *   only) loads through OP-TEE, which expects an image signed with
 *   `sign_rproc_fw.py` (`*_sign.bin`), not a plain ELF. The upstream series
 *   (unmerged) uses an `st,rproc-tee` phandle instead of a compatible, which
 *   sysfs compatibles do not show: set `remoteproc.stm32mp.tee=true` there.
 *   The signed header layout was not read in a source, so the plugin only
 *   refuses a plain ELF; OP-TEE checks the rest (a bad signature fails the
 *   boot with EIO).
 * - A signed image loaded as ELF fails with "bad magic" (EINVAL); an MP2
 *   core without the `mcu_rst` reset refuses start with EPERM: both failures
 *   carry a hint.
 * - Images keep their extension in the stored name (`.elf`, `.bin`), as
 *   ST's wiki names them (`rproc-m4-fw.elf`, `*_CM33_NonSecure_sign.bin`).
 * - Resource table: optional (the driver overrides parse_fw).
 *
 * Not handled: ST's separate `stm32_m0_rproc` driver (MP25 M0+), whose
 * behaviour was not read in a source. See docs/plugins/stm32mp.md.
 *
 * @module
 */
import { FirmwareError } from "../core/util/errors.ts";
import {
  ATTACHED_ANNOTATION,
  ATTACHED_DOC,
  EM,
  hasCompatible,
  stopAttached,
} from "./_common.ts";
import {
  definePlugin,
  type Plugin,
  type PluginContext,
} from "../core/plugin/types.ts";

/** Annotation that says whether the core loads through OP-TEE. */
export const TEE_ANNOTATION = "remoteproc.stm32mp.tee";

const COMPATIBLES = [
  "st,stm32mp1-m4",
  "st,stm32mp1-m4-tee",
  "st,stm32mp2-m33",
  "st,stm32mp2-m33-tee",
];

function isTee({ device, annotations }: PluginContext): boolean {
  const wanted = annotations[TEE_ANNOTATION];
  if (wanted === "true") return true;
  if (wanted === "false") return false;
  return hasCompatible(device, /^st,stm32mp[0-9]+-m[0-9]+-tee$/);
}

/**
 * The STM32MP plugin.
 *
 * @example Matching a processor
 * ```ts
 * import assert from "node:assert/strict";
 * import { stm32mpPlugin } from "./stm32mp.ts";
 *
 * assert.equal(stm32mpPlugin.name, "stm32mp");
 * assert.ok(stm32mpPlugin.matches({
 *   index: "remoteproc0",
 *   dir: "/sys/class/remoteproc/remoteproc0",
 *   name: "core",
 *   driver: "stm32-rproc",
 *   compatible: ["st,stm32mp1-m4"],
 * }));
 * ```
 */
export const stm32mpPlugin: Plugin = definePlugin({
  apiVersion: 1,
  name: "stm32mp",
  description:
    "ST STM32MP1/MP2 Cortex-M (stm32-rproc, -tee): stops bootloader-started cores, TEE-signed images",
  annotations: {
    [ATTACHED_ANNOTATION]: ATTACHED_DOC,
    [TEE_ANNOTATION]:
      "optional: true or false: the core loads signed images through OP-TEE (default: from the -tee compatible)",
  },
  matches: (device) =>
    device.driver === "stm32-rproc" || hasCompatible(device, COMPATIBLES),
  firmwareFormat: (context) => isTee(context) ? "stm32-tee-signed" : "elf",
  firmwareMachines: () => ({ machines: [EM.ARM], core: "a Cortex-M core" }),
  checkFirmware(image, context) {
    if (image.format === "elf") return;
    const b = image.bytes;
    if (b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46) {
      throw new FirmwareError(
        `is a plain ELF, but ${context.device.name} loads firmware through OP-TEE, which expects an image signed with sign_rproc_fw.py (*_sign.bin): sign it, or set ${TEE_ANNOTATION}=false if the core is not in TEE mode`,
      );
    }
    if (b.length < 64) {
      throw new FirmwareError(
        `is ${b.length} bytes, too small for a signed image`,
      );
    }
  },
  prepareStart: (context) =>
    stopAttached(
      context,
      "the firmware did not answer the shutdown request; reset the board without starting the core from the bootloader",
    ),
  startPolicy: {
    hints: {
      EPERM:
        "this core has no mcu_rst reset, so Linux cannot start it outside OP-TEE: use the TEE variant with a signed image",
      EINVAL:
        "the kernel refused the image (a signed .bin loaded as ELF gives bad magic): check the format for this core",
      EIO:
        "OP-TEE refused the image (bad signature?): sign it with the key the OP-TEE TA expects",
    },
  },
  // The stop write itself waits up to 500 ms for the shutdown ack; this
  // timeout counts after it.
  stopPolicy: { timeoutMs: 5_000 },
});
