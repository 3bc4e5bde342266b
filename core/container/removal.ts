/**
 * Removing a container's state directory without racing other verbs. A verb
 * waiting for the operation lock may create `op.lock` in the directory at
 * any moment, which would make a plain recursive removal fail half-way
 * (`ENOTEMPTY`). So the directory is first renamed, atomically, to a
 * tombstone whose name no container id can have (`,` is not allowed in ids;
 * the id is not part of it, so that an id of 255 characters still leaves a
 * valid file name); from then on the id names nothing, and the tombstone is
 * removed at leisure. Tombstones a killed runtime left behind are swept by
 * the next removal.
 *
 * @module
 */
import { dirname, join } from "../util/posix_path.ts";
import { fileError } from "../util/errors.ts";
import { containersDir, type Roots } from "./paths.ts";

const TOMBSTONE_PREFIX = ",removed,";

/**
 * Makes the state root and its `containers` directory exist.
 *
 * @param roots The roots in use.
 * @throws {StateError} Naming the directory that cannot be made and why.
 */
export function makeStateDirs(roots: Roots): void {
  for (const dir of [roots.stateRoot, containersDir(roots)]) {
    try {
      Deno.mkdirSync(dir, { recursive: true, mode: 0o711 });
    } catch (error) {
      throw fileError("create directory", dir, error);
    }
  }
}

/**
 * Whether a state-root entry is a tombstone (never a container).
 *
 * @param name A directory entry name.
 * @returns True for a tombstone.
 */
export function isTombstone(name: string): boolean {
  return name.startsWith(TOMBSTONE_PREFIX);
}

/**
 * Removes a container directory: rename to a tombstone, then remove it and
 * any tombstones left by runtimes killed mid-removal.
 *
 * @param dir The container's state directory.
 * @throws {StateError} Naming the directory when it cannot be removed.
 */
export function removeContainerDir(dir: string): void {
  const parent = dirname(dir);
  const tombstone = join(parent, `${TOMBSTONE_PREFIX}${crypto.randomUUID()}`);
  try {
    Deno.renameSync(dir, tombstone);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw fileError("remove", dir, error);
  }
  try {
    Deno.removeSync(tombstone, { recursive: true });
  } catch (error) {
    // Another runtime's sweep got there first (or is removing it now).
    if (!(error instanceof Deno.errors.NotFound)) {
      throw fileError("remove", tombstone, error);
    }
  }
  sweepTombstones(parent);
}

/** Removes leftover tombstones; another runtime may be removing them too. */
function sweepTombstones(parent: string): void {
  try {
    for (const entry of Deno.readDirSync(parent)) {
      if (!isTombstone(entry.name)) continue;
      try {
        Deno.removeSync(join(parent, entry.name), { recursive: true });
      } catch {
        // removed concurrently, or still being filled: the next sweep
      }
    }
  } catch {
    // the state root itself is unreadable: nothing to sweep
  }
}
