/**
 * The rootfs `create` resolved, pinned for `start`. `create` records the
 * rootfs directory's identity (device and inode). `start` opens it again
 * without following a symlink and refuses it unless it is still that
 * directory. It then opens the firmware beneath it one component at a time,
 * again without following a symlink, and reads the bytes it stores from that
 * descriptor. So a path swapped meanwhile (the rootfs turned into a link to a
 * host directory, a link slipped into the firmware path) makes `start` fail;
 * it never makes it read a host file.
 *
 * Where FFI is not permitted (a library caller without `--allow-ffi`) the
 * same checks run on paths: `lstat` before opening, `fstat` after. A process
 * that races them can still win there; see SECURITY.md.
 *
 * @module
 */
import { relative } from "../util/posix_path.ts";
import { secureJoin } from "./bundle.ts";
import { ConfigError, FirmwareError, osReason } from "../util/errors.ts";
import { MAX_FIRMWARE_BYTES } from "./check.ts";
import {
  closeDescriptor,
  copyDescriptor,
  createExclusive,
  ErrnoError,
  libcIfPermitted,
  openNoFollow,
  statDescriptor,
} from "../os/libc.ts";
import { oneLine } from "../util/message_text.ts";

/**
 * A file's identity: the device and inode `stat` gives.
 *
 * @example
 * ```ts
 * import type { FileIdentity } from "./rootfs.ts";
 * const identity: FileIdentity = { dev: 2049, ino: 1234 };
 * ```
 */
export interface FileIdentity {
  /** `st_dev`. */
  dev: number;
  /** `st_ino`. */
  ino: number;
}

/**
 * The identity of the rootfs directory, as `create` records it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rootfsIdentity } from "./rootfs.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.equal(rootfsIdentity(dir).ino, Deno.statSync(dir).ino);
 * Deno.removeSync(dir);
 * ```
 *
 * @param rootfs The rootfs (create checked it is a directory, not a link).
 * @returns Its device and inode.
 */
export function rootfsIdentity(rootfs: string): FileIdentity {
  const info = Deno.lstatSync(rootfs);
  return { dev: info.dev, ino: info.ino ?? 0 };
}

/**
 * Permission bits of a copy until it passed its checks: only root reads
 * it, so a file that is not what create checked (a host file hard-linked
 * into the rootfs, say) is never readable by anyone else, even briefly.
 * core/firmware/store.ts `publishFirmware` then gives it 0644.
 */
export const UNCHECKED_MODE = 0o600;

/**
 * Firmware opened for copying out of the rootfs.
 *
 * @example Copying a source once
 * ```ts
 * import type { FirmwareSource } from "./rootfs.ts";
 * function store(source: FirmwareSource, target: string): number {
 *   try {
 *     return source.copyTo(target);
 *   } finally {
 *     source.close();
 *   }
 * }
 * ```
 */
export interface FirmwareSource {
  /** The file as the rootfs names it (`/fw.elf`), for messages. */
  readonly shown: string;
  /** Its size when it was opened. */
  readonly size: number;
  /**
   * Copies it (once) to a new file with mode {@linkcode UNCHECKED_MODE}
   * and this process's owner, never the image's: an existing file or a
   * symlink at `target` is refused.
   *
   * @param target The new file.
   * @returns How many bytes were copied.
   * @throws {FirmwareError} When the file grew past the firmware limit
   * (the partial copy stays, for the caller to remove).
   */
  copyTo(target: string): number;
  /** Closes it. */
  close(): void;
}

/**
 * Opens the firmware a container recorded, beneath the rootfs `create`
 * resolved: the rootfs must still be that directory (not a link, not
 * another directory), and the firmware must still resolve (securejoin) to
 * the same regular file path, reached through no symlink.
 *
 * @example The rootfs replaced by a link is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { openFirmwareSource, rootfsIdentity } from "./rootfs.ts";
 * import { ConfigError } from "../util/errors.ts";
 * import { makeSymlinks } from "../../sim/symlinks.ts";
 *
 * const tmp = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${tmp}/rootfs`);
 * Deno.writeTextFileSync(`${tmp}/rootfs/fw.elf`, "firmware");
 * const identity = rootfsIdentity(`${tmp}/rootfs`);
 * const source = openFirmwareSource(`${tmp}/rootfs`, `${tmp}/rootfs/fw.elf`, identity);
 * assert.equal(source.size, 8);
 * source.close();
 *
 * Deno.renameSync(`${tmp}/rootfs`, `${tmp}/real`);
 * makeSymlinks([[`${tmp}/real`, `${tmp}/rootfs`]]);
 * assert.throws(
 *   () => openFirmwareSource(`${tmp}/rootfs`, `${tmp}/rootfs/fw.elf`, identity),
 *   ConfigError,
 * );
 * Deno.removeSync(tmp, { recursive: true });
 * ```
 *
 * @param rootfs The rootfs, as recorded.
 * @param source The firmware's host path, as recorded.
 * @param identity The rootfs identity recorded at create (records made
 * before it was recorded have none: then only links are refused).
 * @returns The open firmware.
 * @throws {ConfigError} When the rootfs or the firmware path changed.
 * @throws {FirmwareError} When the file is larger than the firmware limit.
 */
export function openFirmwareSource(
  rootfs: string,
  source: string,
  identity: FileIdentity | undefined,
): FirmwareSource {
  const inRoot = relative(rootfs, source);
  const shown = `/${inRoot}`;
  const problem = rootfsProblem(rootfs, identity);
  if (problem) throw rootfsChanged(rootfs, problem);
  const again = secureJoin(rootfs, inRoot, shown);
  if (again !== source) throw notRegular(shown);
  const parts = inRoot.split("/");
  return libcIfPermitted()
    ? openByDescriptor(rootfs, parts, shown, identity)
    : openByPath(rootfs, source, shown, identity);
}

function openByDescriptor(
  rootfs: string,
  parts: string[],
  shown: string,
  identity: FileIdentity | undefined,
): FirmwareSource {
  const opened: number[] = [];
  let fd: number;
  try {
    try {
      fd = openNoFollow(undefined, rootfs, "directory");
    } catch (error) {
      if (!(error instanceof ErrnoError)) throw error;
      throw rootfsChanged(
        rootfs,
        rootfsProblem(rootfs, identity) ??
          `cannot open it: ${osReason(error)}`,
      );
    }
    opened.push(fd);
    if (identity && !sameFile(statDescriptor(fd), identity)) {
      throw rootfsChanged(rootfs, "it is another directory");
    }
    for (const part of parts.slice(0, -1)) {
      fd = openNoFollow(fd, part, "directory");
      opened.push(fd);
    }
    const name = parts.at(-1)!;
    const link = openNoFollow(fd, name, "path");
    opened.push(link);
    const found = statDescriptor(link);
    if (!found.isFile) throw notRegular(shown);
    checkSize(shown, found.size);
    const file = openNoFollow(fd, name, "read");
    const info = statDescriptor(file);
    if (!sameFile(info, found)) {
      closeDescriptor(file);
      throw changedWhileOpened(shown, "it was replaced");
    }
    let open = true;
    return {
      shown,
      size: info.size,
      copyTo(target) {
        const out = createExclusive(target, UNCHECKED_MODE);
        try {
          return checkCopied(shown, copyDescriptor(file, out, COPY_LIMIT));
        } finally {
          closeDescriptor(out);
        }
      },
      close() {
        if (open) closeDescriptor(file);
        open = false;
      },
    };
  } catch (error) {
    if (error instanceof ErrnoError) {
      throw changedWhileOpened(shown, osReason(error));
    }
    throw error;
  } finally {
    for (const each of opened) closeDescriptor(each);
  }
}

function openByPath(
  rootfs: string,
  source: string,
  shown: string,
  identity: FileIdentity | undefined,
): FirmwareSource {
  let before: Deno.FileInfo;
  try {
    before = Deno.lstatSync(source);
  } catch {
    throw notRegular(shown);
  }
  if (!before.isFile) throw notRegular(shown);
  checkSize(shown, before.size);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(source, { read: true });
  } catch (error) {
    throw changedWhileOpened(shown, osReason(error));
  }
  const info = file.statSync();
  const problem = rootfsProblem(rootfs, identity);
  if (problem || !info.isFile || !sameFile(info, before)) {
    file.close();
    throw problem
      ? rootfsChanged(rootfs, problem)
      : changedWhileOpened(shown, "it was replaced");
  }
  let open = true;
  return {
    shown,
    size: info.size,
    copyTo(target) {
      const out = Deno.openSync(target, {
        write: true,
        createNew: true,
        mode: UNCHECKED_MODE,
      });
      try {
        Deno.chmodSync(target, UNCHECKED_MODE); // whatever the umask
        const buffer = new Uint8Array(1 << 20);
        let total = 0;
        while (total < COPY_LIMIT) {
          const n = file.readSync(buffer) ?? 0;
          if (n === 0) break;
          for (let w = 0; w < n;) w += out.writeSync(buffer.subarray(w, n));
          total += n;
        }
        return checkCopied(shown, total);
      } finally {
        out.close();
      }
    },
    close() {
      if (open) file.close();
      open = false;
    },
  };
}

/**
 * What is wrong with the rootfs now, if anything: gone, a symlink, not a
 * directory, or (with an identity) another directory than create's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rootfsProblem } from "./rootfs.ts";
 * assert.equal(rootfsProblem("/nonexistent-rootfs", undefined), "it no longer exists");
 * ```
 *
 * @param rootfs The rootfs.
 * @param identity Its identity at create, if recorded.
 * @returns A phrase (`it is now a symlink`), or undefined when it is fine.
 */
export function rootfsProblem(
  rootfs: string,
  identity: FileIdentity | undefined,
): string | undefined {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(rootfs);
  } catch {
    return "it no longer exists";
  }
  if (info.isSymlink) return "it is now a symlink";
  if (!info.isDirectory) return "it is no longer a directory";
  if (identity && !sameFile(info, identity)) return "it is another directory";
  return undefined;
}

function sameFile(
  a: { dev: number; ino: number | null },
  b: { dev: number; ino: number | null },
): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** One byte more than the limit, to tell a file that grew past it. */
const COPY_LIMIT = MAX_FIRMWARE_BYTES + 1;

function checkCopied(shown: string, copied: number): number {
  if (copied > MAX_FIRMWARE_BYTES) {
    throw new FirmwareError(
      `firmware ${shown}: it grew past the limit of ${MAX_FIRMWARE_BYTES} bytes while it was copied`,
    );
  }
  return copied;
}

function checkSize(shown: string, size: number): void {
  if (size > MAX_FIRMWARE_BYTES) {
    throw new FirmwareError(
      `firmware ${shown}: ${size} bytes is more than the limit of ${MAX_FIRMWARE_BYTES}`,
    );
  }
}

function rootfsChanged(rootfs: string, what: string): ConfigError {
  return new ConfigError(
    `root.path ${oneLine(rootfs)} changed since create: ${what}`,
  );
}

function notRegular(shown: string): ConfigError {
  return new ConfigError(
    `firmware file ${oneLine(shown)} is no longer a regular file in the rootfs`,
  );
}

function changedWhileOpened(shown: string, what: string): ConfigError {
  return new ConfigError(
    `firmware file ${oneLine(shown)} changed while start opened it: ${what}`,
  );
}
