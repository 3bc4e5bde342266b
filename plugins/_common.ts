/**
 * Helpers shared by the SoC plugins and vendor profiles (private to
 * `plugins/`).
 *
 * @module
 */
import { DeviceError, FirmwareError } from "../core/util/errors.ts";
import { errnoOf, stopProcessor } from "../core/device/processor.ts";
import { type Device, label } from "../core/device/sysfs.ts";
import type {
  FirmwareImage,
  PluginContext,
  StopPolicy,
} from "../core/plugin/types.ts";

/**
 * Annotation honoured by plugins that can stop a core the bootloader
 * started: `stop` (default) stops it before loading ours, `refuse` leaves
 * it alone and fails.
 */
export const ATTACHED_ANNOTATION = "remoteproc.attached";

/** What {@linkcode ATTACHED_ANNOTATION} means, for `features`. */
export const ATTACHED_DOC =
  "optional: stop (default) or refuse: what to do with a core the bootloader started (reads attached)";

/** ELF `e_machine` values the plugins expect. */
export const EM = { ARM: 40, XTENSA: 94, TI_C6000: 140 } as const;

/**
 * Brings an `attached` core (running firmware the bootloader started) to
 * `offline` by writing `stop`, unless the container's annotation says
 * `refuse`. Any other state is left to the core's offline check.
 *
 * @param context The plugin context.
 * @param cannot What to tell the user when the core refuses to stop.
 * @param policy Stop policy to use.
 * @throws {DeviceError} When refused by annotation or by the processor.
 */
export async function stopAttached(
  context: PluginContext,
  cannot: string,
  policy: Partial<StopPolicy> = {},
): Promise<void> {
  const { device, sysfs, annotations } = context;
  if (sysfs.readState(device) !== "attached") return;
  const wanted = annotations[ATTACHED_ANNOTATION] ?? "stop";
  if (wanted === "refuse") {
    throw new DeviceError(
      `${
        label(device)
      } runs firmware the bootloader started (attached) and ${ATTACHED_ANNOTATION} is "refuse": stop it yourself (echo stop > state) or set ${ATTACHED_ANNOTATION}=stop`,
    );
  }
  if (wanted !== "stop") {
    throw new DeviceError(
      `annotation ${ATTACHED_ANNOTATION} must be stop or refuse, not ${
        JSON.stringify(wanted)
      }`,
    );
  }
  try {
    await stopProcessor(sysfs, device, policy);
  } catch (error) {
    const code = errnoOf(error) ?? "refused";
    throw new DeviceError(
      `${
        label(device)
      } runs firmware the bootloader started (attached) and refused to stop (${code}): ${cannot}`,
      { cause: error },
    );
  }
}

/**
 * Requires a `.resource_table` section.
 *
 * @param image The image.
 * @param why Why this processor needs one.
 * @throws {FirmwareError} When there is none.
 */
export function requireResourceTable(image: FirmwareImage, why: string): void {
  if (!image.info || image.info.hasResourceTable) return;
  throw new FirmwareError(`has no .resource_table section: ${why}`);
}

/**
 * Matches a name against a glob with `*` and `?`.
 *
 * @param pattern The glob.
 * @param name The name.
 * @returns True on a match.
 */
export function globMatch(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`).test(name);
}

/**
 * Whether any of the device's compatibles matches.
 *
 * @param device The processor.
 * @param test A pattern or list of exact strings.
 * @returns True on a match.
 */
export function hasCompatible(
  device: Device,
  test: RegExp | readonly string[],
): boolean {
  return device.compatible.some((c) =>
    test instanceof RegExp ? test.test(c) : test.includes(c)
  );
}
