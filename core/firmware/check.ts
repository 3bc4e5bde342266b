/**
 * Firmware validation at `create`: the core parses an ELF image as the
 * kernel's loader would (`elf.ts`), refuses a Linux program and an image
 * built for another machine than the plugin declares, the plugin adds its
 * own requirements, and what was found is recorded as annotations. A bad
 * image fails here, with a precise message, instead of as a bare errno at
 * `start`.
 *
 * @module
 */
import {
  FIRMWARE_FORMAT_ANNOTATION,
  FIRMWARE_MACHINE_ANNOTATION,
  FIRMWARE_RSC_ANNOTATION,
} from "../container/annotations.ts";
import {
  archMachine,
  type FirmwareInfo,
  machineName,
  parseFirmware,
} from "./elf.ts";
import { FirmwareError } from "../util/errors.ts";
import type { FirmwareImage, Plugin, PluginContext } from "../plugin/types.ts";

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
    if (info) checkMachine(info, plugin, context);
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

/**
 * Refuses an ELF image that is plainly a Linux program rather than
 * firmware, then one built for another machine than the processor's plugin
 * declares (`Plugin.firmwareMachines`). A Linux program is one with a
 * program interpreter (`PT_INTERP`: dynamically linked), or one built for
 * the host's own architecture when the plugin does not declare that
 * architecture for this processor. The kernel checks neither: it would
 * copy the program's segments into the processor's memory and start it.
 *
 * @example A dynamically linked program is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkMachine } from "./check.ts";
 * import { genericPlugin } from "../../plugins/generic.ts";
 * import type { FirmwareInfo } from "./elf.ts";
 * import type { PluginContext } from "../plugin/types.ts";
 *
 * const info: FirmwareInfo = {
 *   class: 64, endianness: "little", machine: 62, machineName: "x86-64",
 *   entry: 0x1000n, loadSegments: 2, hasResourceTable: false,
 *   interpreter: "/lib64/ld-linux-x86-64.so.2",
 * };
 * assert.throws(
 *   () => checkMachine(info, genericPlugin, {} as PluginContext, "aarch64"),
 *   /is a Linux program \(has program interpreter \/lib64\/ld-linux-x86-64\.so\.2\), not firmware/,
 * );
 * ```
 *
 * @param info What the ELF parser found.
 * @param plugin The processor's plugin.
 * @param context The plugin context.
 * @param arch The host's architecture (`Deno.build.arch`).
 * @throws {FirmwareError} Saying what was found.
 */
export function checkMachine(
  info: FirmwareInfo,
  plugin: Plugin,
  context: PluginContext,
  arch: string = Deno.build.arch,
): void {
  if (info.interpreter !== undefined) {
    const found = info.interpreter === ""
      ? "has a program interpreter (PT_INTERP)"
      : `has program interpreter ${info.interpreter}`;
    throw new FirmwareError(`is a Linux program (${found}), not firmware`);
  }
  const declared = plugin.firmwareMachines?.(context);
  const machines = declared?.machines ?? [];
  if (info.machine === archMachine(arch) && !machines.includes(info.machine)) {
    throw new FirmwareError(
      `is a Linux program (built for ${info.machineName}, the host's own architecture, which plugin ${plugin.name} does not declare for this processor), not firmware`,
    );
  }
  if (declared && machines.length > 0 && !machines.includes(info.machine)) {
    throw new FirmwareError(
      `built for ${info.machineName}, but the processor is ${declared.core} (${
        machines.map(machineName).join(" or ")
      }): rebuild it for that core`,
    );
  }
}
