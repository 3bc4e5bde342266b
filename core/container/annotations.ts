/**
 * Annotations the runtime reads (from config.json) and adds (to the state).
 *
 * @module
 */

/** Names the processor: its `name`, or `remoteprocN`. Required. */
export const NAME_ANNOTATION = "remoteproc.name";
/**
 * Set by the Kubernetes device plugin's `Allocate` (with `remoteproc.name`):
 * the processor the kubelet allocated. Ranks above every other selector.
 */
export const ALLOCATED_ANNOTATION = "remoteproc.allocated";
/** Added by `start`: the stored firmware name written to the processor. */
export const FIRMWARE_ANNOTATION = "remoteproc.firmware";
/**
 * Optional: the SHA-256 digest (64 hex digits, `sha256:` prefix allowed) the
 * firmware file must have; `create` and `start` refuse any other.
 */
export const FIRMWARE_SHA256_ANNOTATION = "remoteproc.firmware-sha256";
/** Optional: the SoC plugin to use instead of matching. */
export const PLUGIN_ANNOTATION = "remoteproc.plugin";
/** Added by `create`: the processor's sysfs directory. */
export const RESOLVED_PATH_ANNOTATION = "remoteproc.resolved-path";

/**
 * The annotations that mark a pod's sandbox container, with the one value
 * that does: containerd's CRI plugin and CRI-O (core/ops/sandbox.ts).
 */
export const SANDBOX_MARKERS: Readonly<Record<string, string>> = {
  "io.kubernetes.cri.container-type": "sandbox",
  "io.kubernetes.cri-o.ContainerType": "sandbox",
};
/** containerd's annotation naming a CRI container (its name in the pod). */
export const CONTAINER_NAME_ANNOTATION = "io.kubernetes.cri.container-name";
/** containerd's annotation naming a container's pod sandbox. */
export const SANDBOX_ID_ANNOTATION = "io.kubernetes.cri.sandbox-id";

/** Annotations honoured, with what they mean (for `features`). */
export const HONOURED_ANNOTATIONS: Readonly<Record<string, string>> = {
  [NAME_ANNOTATION]:
    "required: the processor to deploy to, by name or as remoteprocN",
  [ALLOCATED_ANNOTATION]:
    "set by the Kubernetes device plugin: the processor the kubelet allocated (remoteprocN); ranks above remoteproc.name",
  [PLUGIN_ANNOTATION]: "optional: the SoC plugin to use instead of matching",
  [FIRMWARE_SHA256_ANNOTATION]:
    "optional: the firmware's expected SHA-256 digest; any other image is refused",
  ...Object.fromEntries(
    Object.entries(SANDBOX_MARKERS).map(([key, value]) => [
      key,
      `set by the CRI runtime: "${value}" makes the pod's sandbox a placeholder that claims no processor`,
    ]),
  ),
};
/** Added by `create`: the firmware format checked (`elf` or a plugin's). */
export const FIRMWARE_FORMAT_ANNOTATION = "remoteproc.firmware.format";
/** Added by `create` for ELF images: `e_machine`, named (`ARM`). */
export const FIRMWARE_MACHINE_ANNOTATION = "remoteproc.firmware.machine";
/** Added by `create` for ELF images: `true` when `.resource_table` exists. */
export const FIRMWARE_RSC_ANNOTATION = "remoteproc.firmware.resource-table";
