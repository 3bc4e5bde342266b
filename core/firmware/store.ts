/**
 * The firmware store: copies of container firmware in the kernel's
 * firmware directory, under the names placement.ts gives them (by default
 * `<stem>-<stamp>-<rand><ext>`; a plugin may add a subdirectory or its own
 * template). Only a name the runtime could have made is ever removed.
 *
 * @module
 */
import { basename, dirname, join } from "../util/posix_path.ts";
import { removeIfPresent } from "../util/fs.ts";
import { DeviceError, osReason, RuntimeError } from "../util/errors.ts";
import { oneLine } from "../util/message_text.ts";
import type { FirmwareSource } from "./rootfs.ts";

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
 * Checks that the firmware directory is one `start` can store into: a
 * directory (made if missing) that this process may write and, with a
 * sysroot, inside it (symlinks resolved), whatever Deno permissions the
 * process runs with (the launcher's flags, or a compiled binary's `-A`).
 * Each problem is one line naming the directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkFirmwareDir } from "./store.ts";
 * import { DeviceError, RuntimeError } from "../util/errors.ts";
 * const file = Deno.makeTempFileSync();
 * assert.throws(() => checkFirmwareDir(file, "firmware directory"), DeviceError);
 * Deno.removeSync(file);
 * ```
 *
 * @param dir The kernel's firmware directory.
 * @param what How to name it (`firmware directory X (firmware_class.path)`).
 * @param sysroot The sysroot (`/` on a real board).
 * @throws {DeviceError} When it is not a directory, cannot be made, or is
 * outside what this process may write.
 */
export function checkFirmwareDir(
  dir: string,
  what: string,
  sysroot = "/",
): void {
  if (
    !isWithin(resolvedPath(sysroot), resolvedPath(dir)) ||
    Deno.permissions.querySync({ name: "write", path: dir }).state !== "granted"
  ) {
    throw new DeviceError(
      `${what} is outside the paths this runtime may write (with a sysroot, only the sysroot)`,
    );
  }
  let info: Deno.FileInfo;
  try {
    info = statOrMake(dir);
  } catch (error) {
    throw new DeviceError(`${what} cannot be used: ${osReason(error)}`, {
      cause: error,
    });
  }
  if (!info.isDirectory) throw new DeviceError(`${what} is not a directory`);
}

function isWithin(root: string, path: string): boolean {
  return root === "/" || path === root || path.startsWith(`${root}/`);
}

/** A path with the symlinks of its longest existing prefix resolved. */
function resolvedPath(path: string): string {
  const rest: string[] = [];
  for (let at = path;;) {
    try {
      return join(Deno.realPathSync(at), ...rest.reverse());
    } catch {
      const parent = dirname(at);
      if (parent === at) return path;
      rest.push(basename(at));
      at = parent;
    }
  }
}

function statOrMake(dir: string): Deno.FileInfo {
  try {
    return Deno.statSync(dir);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  Deno.mkdirSync(dir, { recursive: true });
  return Deno.statSync(dir);
}

/**
 * Copies firmware into the store, creating the placement subdirectory if
 * needed. The copy is a new file with mode 0600 owned by this process,
 * never the image's mode or owner (see {@linkcode FirmwareSource.copyTo});
 * {@linkcode publishFirmware} makes it 0644 once it passed its checks.
 *
 * @param source Firmware opened in the rootfs.
 * @param firmwareDir The kernel's firmware directory.
 * @param name Name relative to `firmwareDir` (may contain a subdirectory).
 * @returns The stored file's path.
 * @throws {DeviceError} Naming the file, when it cannot be written.
 * @throws {FirmwareError} When the firmware grew past the limit.
 */
export function storeFirmware(
  source: FirmwareSource,
  firmwareDir: string,
  name: string,
): string {
  const target = join(firmwareDir, name);
  try {
    Deno.mkdirSync(join(target, ".."), { recursive: true });
    source.copyTo(target);
  } catch (error) {
    if (error instanceof RuntimeError) throw error;
    throw new DeviceError(
      `cannot store firmware ${oneLine(target)}: ${osReason(error)}`,
      { cause: error },
    );
  }
  return target;
}

/** Permission bits of a stored copy once checked, whatever the image's were. */
export const STORED_MODE = 0o644;

/**
 * Makes a checked copy readable as firmware directories are (0644, still
 * owned by this process): until then only root could read it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { publishFirmware } from "./store.ts";
 * const file = Deno.makeTempFileSync();
 * Deno.chmodSync(file, 0o4777);
 * publishFirmware(file);
 * assert.equal(Deno.statSync(file).mode! & 0o7777, 0o644);
 * Deno.removeSync(file);
 * ```
 *
 * @param path The stored copy.
 */
export function publishFirmware(path: string): void {
  Deno.chmodSync(path, STORED_MODE);
}

/**
 * Removes a stored firmware file; a file that is already gone is fine.
 *
 * @param path The stored file.
 */
export function removeStoredFirmware(path: string): void {
  removeIfPresent(path);
}
