/**
 * The firmware store: copies of container firmware in the kernel's
 * firmware directory, under the names placement.ts gives them (by default
 * `<stem>-<stamp>-<rand><ext>`; a plugin may add a subdirectory or its own
 * template). Only a name the runtime could have made is ever removed.
 *
 * @module
 */
import { join } from "../util/posix_path.ts";
import { removeIfPresent } from "../util/fs.ts";

const COMPONENT = /^[A-Za-z0-9._-]+$/;
const RANDOM = /[0-9a-f]{8}/;

/**
 * Whether a name (relative to the firmware directory) is one the runtime
 * makes (core/firmware/placement.ts): an optional subdirectory and a file name, all
 * of `[A-Za-z0-9._-]` without `.` or `..` components, the file name holding
 * the 8 random hex digits every name template must contain. Only such files
 * are ever removed, whatever a (corrupt) record or claim says.
 *
 * @example
 * ```ts
 * import { isStoredFirmwareName } from "./store.ts";
 * isStoredFirmwareName("fw-19700101T000000Z-0a1b2c3d.elf"); // true
 * isStoredFirmwareName("rproc/fw-0a1b2c3d.elf"); // true
 * isStoredFirmwareName("../passwd"); // false
 * ```
 *
 * @param name A stored firmware name.
 * @returns True for a name the runtime could have made.
 */
export function isStoredFirmwareName(name: string): boolean {
  const parts = name.split("/");
  return parts.every((p) => COMPONENT.test(p) && p !== "." && p !== "..") &&
    RANDOM.test(parts.at(-1)!);
}

/**
 * Removes the stored firmware a record names, if its name is one the
 * runtime makes (see {@linkcode isStoredFirmwareName}) and the path ends
 * with it; anything else is left alone. A file already gone is fine.
 *
 * @param path The stored file, as recorded.
 * @param name Its name relative to the firmware directory, as recorded.
 */
export function removeRecordedFirmware(
  path: string,
  name: string | undefined,
): void {
  if (
    name !== undefined && isStoredFirmwareName(name) &&
    path.endsWith(`/${name}`)
  ) {
    removeStoredFirmware(path);
  }
}

/**
 * Copies firmware into the store through the kernel's copy path
 * (`copy_file_range`), creating the placement subdirectory if needed.
 *
 * @param source Firmware in the rootfs.
 * @param firmwareDir The kernel's firmware directory.
 * @param name Name relative to `firmwareDir` (may contain a subdirectory).
 * @returns The stored file's path.
 */
export function storeFirmware(
  source: string,
  firmwareDir: string,
  name: string,
): string {
  const target = join(firmwareDir, name);
  const parent = join(target, "..");
  Deno.mkdirSync(parent, { recursive: true });
  Deno.copyFileSync(source, target);
  return target;
}

/**
 * Removes a stored firmware file; a file that is already gone is fine.
 *
 * @param path The stored file.
 */
export function removeStoredFirmware(path: string): void {
  removeIfPresent(path);
}
