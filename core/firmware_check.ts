/**
 * Firmware validation at `create`: the core parses an ELF image as the
 * kernel's loader would (`elf.ts`), the plugin adds its own requirements,
 * and what was found is recorded as annotations. A bad image fails here,
 * with a precise message, instead of as a bare errno at `start`.
 *
 * @module
 */
import {
  FIRMWARE_FORMAT_ANNOTATION,
  FIRMWARE_MACHINE_ANNOTATION,
  FIRMWARE_RSC_ANNOTATION,
} from "./annotations.ts";
import { parseFirmware } from "./elf.ts";
import { FirmwareError } from "./errors.ts";
import type { FirmwareImage, Plugin, PluginContext } from "../plugins/types.ts";

/** Largest firmware file read (remote processor memories are far smaller). */
export const MAX_FIRMWARE_BYTES = 256 * 1024 * 1024;

/**
 * Validates a firmware file for a processor.
 *
 * @param path The file (host path, already resolved in the rootfs).
 * @param shown How to name it in messages (`process.args[0]`).
 * @param plugin The processor's plugin.
 * @param context The plugin context.
 * @param read The file's bytes, when the caller has read them already.
 * @returns Annotations to record (format, and for ELF the machine and
 * whether a resource table exists).
 * @throws {FirmwareError} Naming the file and what is wrong.
 */
export function checkFirmwareFile(
  path: string,
  shown: string,
  plugin: Plugin,
  context: PluginContext,
  read?: Uint8Array,
): Record<string, string> {
  const size = read?.length ?? Deno.statSync(path).size;
  if (size > MAX_FIRMWARE_BYTES) {
    throw new FirmwareError(
      `firmware ${shown}: ${size} bytes is more than the limit of ${MAX_FIRMWARE_BYTES}`,
    );
  }
  const bytes = read ?? Deno.readFileSync(path);
  const format = plugin.firmwareFormat?.(context) ?? "elf";
  try {
    const info = format === "elf" ? parseFirmware(bytes) : undefined;
    const image: FirmwareImage = { path, bytes, format, info };
    plugin.checkFirmware?.(image, context);
    const found: Record<string, string> = {
      [FIRMWARE_FORMAT_ANNOTATION]: format,
    };
    if (info) {
      found[FIRMWARE_MACHINE_ANNOTATION] = info.machineName;
      found[FIRMWARE_RSC_ANNOTATION] = String(info.hasResourceTable);
    }
    return found;
  } catch (error) {
    if (error instanceof FirmwareError) {
      // elf.ts words its messages "firmware is ...": name the file instead.
      const what = error.message.replace(/^firmware /, "");
      throw new FirmwareError(`firmware ${shown}: ${what}`, {
        cause: error,
      });
    }
    throw error;
  }
}
