/**
 * Annotations the runtime reads (from config.json) and adds (to the state).
 *
 * @module
 */

/** Names the processor: its `name`, or `remoteprocN`. Required. */
export const NAME_ANNOTATION = "remoteproc.name";
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

/** Annotations honoured, with what they mean (for `features`). */
export const HONOURED_ANNOTATIONS: Readonly<Record<string, string>> = {
  [NAME_ANNOTATION]:
    "required: the processor to deploy to, by name or as remoteprocN",
  [PLUGIN_ANNOTATION]: "optional: the SoC plugin to use instead of matching",
  [FIRMWARE_SHA256_ANNOTATION]:
    "optional: the firmware's expected SHA-256 digest; any other image is refused",
};
/** Added by `create`: the firmware format checked (`elf` or a plugin's). */
export const FIRMWARE_FORMAT_ANNOTATION = "remoteproc.firmware.format";
/** Added by `create` for ELF images: `e_machine`, named (`ARM`). */
export const FIRMWARE_MACHINE_ANNOTATION = "remoteproc.firmware.machine";
/** Added by `create` for ELF images: `true` when `.resource_table` exists. */
export const FIRMWARE_RSC_ANNOTATION = "remoteproc.firmware.resource-table";
