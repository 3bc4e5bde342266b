/**
 * File locks (flock) in a container's state directory.
 *
 * - `proxy.lock` is held by the proxy for its whole life: a held lock means
 *   the proxy is alive. The kernel drops it when the proxy dies, however it
 *   dies, and it cannot be fooled by a reused pid. Nothing reads `/proc`.
 * - `op.lock` is held by a verb that changes the container (create, start,
 *   kill, delete) so that concurrent invocations serialise.
 *
 * @module
 */
import { join } from "../util/posix_path.ts";
import {
  ContainerNotFoundError,
  fileError,
  isNameTooLong,
  RuntimeError,
} from "../util/errors.ts";
import { pollUntil } from "../util/poll.ts";

/** File the proxy locks for its lifetime. */
export const PROXY_LOCK = "proxy.lock";
/** File a mutating verb locks while it works. */
export const OP_LOCK = "op.lock";

/**
 * Whether some process holds an exclusive lock on `path`. A missing file
 * counts as not held.
 *
 * @param path The lock file.
 * @returns True when another open file description holds the lock.
 */
export function isLockHeld(path: string): boolean {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch {
    return false;
  }
  try {
    if (file.tryLockSync(true)) {
      file.unlockSync();
      return false;
    }
    return true;
  } finally {
    file.close();
  }
}

/**
 * Whether the proxy of the container in `dir` is alive.
 *
 * @param dir The container's state directory.
 * @returns True while the proxy holds its lock.
 */
export function isProxyAlive(dir: string): boolean {
  return isLockHeld(join(dir, PROXY_LOCK));
}

/**
 * Takes the container's operation lock, waiting up to `timeoutMs` for
 * another verb to finish.
 *
 * @param dir The container's state directory.
 * @param id The container id, for messages.
 * @param timeoutMs How long to wait.
 * @returns The open lock file; closing it releases the lock.
 * @throws {ContainerNotFoundError} When the directory does not exist (or
 * its path is too long to exist).
 * @throws {StateError} When the lock file cannot be opened (read-only file
 * system, ...).
 * @throws {RuntimeError} When another operation holds it for too long.
 */
export async function acquireOpLock(
  dir: string,
  id: string,
  timeoutMs = 30_000,
): Promise<Deno.FsFile> {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(join(dir, OP_LOCK), {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || isNameTooLong(error)) {
      throw new ContainerNotFoundError(id);
    }
    throw fileError("open", join(dir, OP_LOCK), error);
  }
  const locked = await pollUntil(() => file.tryLockSync(true) || undefined, {
    timeoutMs,
    delayMs: 1,
    maxDelayMs: 20,
  });
  if (!locked) {
    file.close();
    throw new RuntimeError(
      "container is busy: another operation on it did not finish",
    );
  }
  return file;
}
