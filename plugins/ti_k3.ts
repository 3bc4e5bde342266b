/**
 * Texas Instruments K3 (AM64x, AM62x, J721E, ...): `k3_r5_rproc` (R5F,
 * bound to the r5fss cluster node), `k3-dsp-rproc` (C66x, C71x) and
 * `k3-m4-rproc` (M4F).
 *
 * Quirks, from drivers/remoteproc/ti_k3_*.c and TI's SDK docs
 * (remoteproc-facts.md 3c):
 * - The resource table is mandatory: these drivers keep the default
 *   parse_fw, and without `.resource_table` the kernel fails the boot with
 *   EINVAL and no log line. Refused at `create`.
 * - IPC-only mode (started by the bootloader, reads `attached`): the R5F
 *   driver gives the core no stop, so `stop` gives EINVAL and new firmware
 *   needs a reboot: deploying is refused with why and what to do. The M4F,
 *   and the DSP since the 2025 refactor, keep stop: the plugin stops them
 *   first; an older DSP driver refuses (EINVAL) and gets the same advice.
 * - The AM62 Device Manager R5F (`78000000.r5f` with a `ti,am62*-r5f` or
 *   `-r5fss` compatible) runs firmware from tispl.bin that the SoC needs: the plugin
 *   never deploys to it nor stops it. The AM62A/AM62P DM cores are assumed
 *   to sit at the same address (not confirmed in a source).
 * - Stop: TI vendor kernels send a SHUTDOWN message and wait for an ack;
 *   firmware without a handler makes `stop` fail with EBUSY. The stop is
 *   retried twice, a second apart, then reported with what to do.
 * - TI names firmware `<soc>-<domain>-<core>-fw` (`am64-main-r5f0_0-fw`),
 *   symlinks to `*.xer5f` / `*.xe66` / `*.xem4f` images named by the DT
 *   `firmware-name`. The runtime never rewrites those links: its copies are
 *   named `<rproc name>-<stem>-<stamp>-<rand><ext>` (`78400000.r5f-app-…
 *   .xer5f`), keeping TI's extension, and written to `firmware` directly.
 * - Recovery is disabled in these drivers, so a crash never reads
 *   `crashed`; TI vendor kernels set `suspended` during system suspend and
 *   reboot the core on resume, so `suspended` means running here (vendor
 *   kernels only; upstream never reads suspended).
 * - R5F/M4F images must be ARM (e_machine 40), C66x images TI C6000 (140);
 *   C71x is not checked (its machine value was not confirmed).
 *
 * See docs/plugins/ti-k3.md.
 *
 * @module
 */
import { type Device, label } from "../core/device/sysfs.ts";
import {
  ATTACHED_ANNOTATION,
  ATTACHED_DOC,
  EM,
  hasCompatible,
  requireResourceTable,
  stopAttached,
} from "./_common.ts";
import {
  definePlugin,
  type Plugin,
  type StopPolicy,
} from "../core/plugin/types.ts";

type Kind = "r5f" | "dsp" | "m4f";

function kindOf(device: Device): Kind | undefined {
  if (
    device.driver === "k3_r5_rproc" || hasCompatible(device, /^ti,.*-r5f(ss)?$/)
  ) {
    return "r5f";
  }
  if (
    device.driver === "k3-dsp-rproc" ||
    hasCompatible(device, /^ti,.*-c(66|71)-dsp$/)
  ) return "dsp";
  if (
    device.driver === "k3-m4-rproc" || hasCompatible(device, /^ti,.*-m4fss$/)
  ) {
    return "m4f";
  }
  return undefined;
}

function isDeviceManager(device: Device): boolean {
  return device.name === "78000000.r5f" &&
    hasCompatible(device, /^ti,am62[a-z]*-r5f(ss)?$/);
}

const REBOOT_ADVICE =
  "it runs in IPC-only mode (started by the bootloader) and the kernel gives it no stop, so new firmware needs a reboot: stop the bootloader from starting this core (U-Boot / device tree), reboot, then deploy";

const STOP_POLICY: Partial<StopPolicy> = {
  retries: 2,
  retryOn: ["EBUSY"],
  retryDelayMs: 1_000,
  hints: {
    EBUSY:
      "the firmware did not acknowledge the shutdown request; add a shutdown handler to the firmware (TI IPC RP_MBOX_SHUTDOWN) or reboot to reload the core",
    EPERM: "in split mode core0 cannot stop before core1: stop core1 first",
  },
};

/**
 * The TI K3 plugin.
 *
 * @example Matching a processor
 * ```ts
 * import assert from "node:assert/strict";
 * import { tiK3Plugin } from "./ti_k3.ts";
 *
 * assert.equal(tiK3Plugin.name, "ti-k3");
 * assert.ok(tiK3Plugin.matches({
 *   index: "remoteproc0",
 *   dir: "/sys/class/remoteproc/remoteproc0",
 *   name: "core",
 *   driver: "k3_r5_rproc",
 *   compatible: ["ti,am64-r5f"],
 * }));
 * ```
 */
export const tiK3Plugin: Plugin = definePlugin({
  apiVersion: 1,
  name: "ti-k3",
  description:
    "TI K3 R5F, C66x/C71x DSP and M4F (k3_r5_rproc, k3-dsp-rproc, k3-m4-rproc): mandatory resource table, IPC-only mode, AM62 DM R5F untouched, EBUSY stop retry",
  annotations: { [ATTACHED_ANNOTATION]: ATTACHED_DOC },
  matches: (device) => kindOf(device) !== undefined,
  refuses(operation, { device, sysfs }) {
    if (isDeviceManager(device)) {
      return `${
        label(device)
      } is the AM62 Device Manager R5F: it runs firmware from tispl.bin that the SoC needs and Linux did not load, so the runtime never touches it: deploy to another core`;
    }
    if (
      operation === "deploy" && kindOf(device) === "r5f" &&
      sysfs.readState(device) === "attached"
    ) {
      return `${label(device)} cannot be loaded: ${REBOOT_ADVICE}`;
    }
    return undefined;
  },
  checkFirmware(image) {
    requireResourceTable(
      image,
      "TI K3 cores need one (without it the kernel fails the start with EINVAL and no log); link one in, as TI's IPC examples do",
    );
  },
  firmwareMachines({ device }) {
    const kind = kindOf(device);
    if (kind === "r5f") return { machines: [EM.ARM], core: "an R5F core" };
    if (kind === "m4f") return { machines: [EM.ARM], core: "an M4F core" };
    if (kind === "dsp" && hasCompatible(device, /-c66-dsp$/)) {
      return { machines: [EM.TI_C6000], core: "a C66x DSP" };
    }
    return undefined;
  },
  firmwarePlacement: () => ({
    template: "{device}-{stem}-{stamp}-{rand}{ext}",
  }),
  stateAliases: { suspended: "running" },
  prepareStart: (context) => stopAttached(context, REBOOT_ADVICE, STOP_POLICY),
  startPolicy: {
    hints: {
      EINVAL:
        "TI K3 firmware needs a resource table at the start of its DDR region (see the linker command file)",
      EPERM: "in split mode core1 cannot start before core0: start core0 first",
    },
  },
  stopPolicy: STOP_POLICY,
});
