/**
 * Opening a container, the same way for every verb that works on one
 * (`start`, `kill`, `delete`, `state`): check the id, find its directory,
 * take its operation lock (the verbs that change it), load its record and
 * reconcile the stored status with the proxy and the processor (runc's
 * `getContainer`, youki's `load_container`).
 *
 * @module
 */
import { validateId } from "../container/ids.ts";
import { acquireOpLock } from "../container/locks.ts";
import { containerDir } from "../container/paths.ts";
import { reconcile } from "../container/reconcile.ts";
import { type ContainerRecord, loadRecord } from "../container/record.ts";
import type { Status } from "../container/status.ts";
import { ContainerNotFoundError, StateError } from "../util/errors.ts";
import type { Runtime } from "../runtime.ts";

/** An open container. */
export interface OpenContainer {
  /** Its id, checked. */
  id: string;
  /** Its state directory. */
  dir: string;
  /** Its stored record. */
  record: ContainerRecord;
  /** The status to act on: the record reconciled with what is alive. */
  status: Status;
}

/** How to open a container. */
export interface OpenOptions<T> {
  /**
   * Take the operation lock for the whole of `use` (default true): the
   * verbs that change the container. `state` only reads.
   */
  lock?: boolean | undefined;
  /**
   * Called instead of failing when the container does not exist or its
   * record cannot be read (`delete --force`).
   *
   * @param dir The container's state directory.
   * @param locked Whether the operation lock is held (the directory
   * exists and the record is what failed).
   */
  orElse?: ((dir: string, locked: boolean) => Promise<T> | T) | undefined;
}

/**
 * Opens a container and runs `use` on it, the operation lock held.
 *
 * @example Opening a container that does not exist
 * ```ts
 * import assert from "node:assert/strict";
 * import { withContainer } from "./open.ts";
 * import { ContainerNotFoundError } from "../util/errors.ts";
 * import { openRuntime } from "../runtime.ts";
 *
 * const sysroot = Deno.makeTempDirSync();
 * const rt = openRuntime({ sysroot });
 * await assert.rejects(
 *   withContainer(rt, "c1", ({ status }) => status),
 *   ContainerNotFoundError,
 * );
 * const missing = await withContainer(rt, "c1", () => "open", {
 *   orElse: (_dir, locked) => locked ? "unreadable" : "missing",
 * });
 * assert.equal(missing, "missing");
 * Deno.removeSync(sysroot, { recursive: true });
 * ```
 *
 * @param rt The runtime context.
 * @param id The container id.
 * @param use The verb's work.
 * @param options Whether to lock; what to do without a readable record.
 * @returns What `use` (or `orElse`) returns.
 * @throws {UsageError} For a bad id.
 * @throws {ContainerNotFoundError} When there is no such container.
 * @throws {StateError} When its record cannot be read.
 */
export async function withContainer<T>(
  rt: Runtime,
  id: string,
  use: (container: OpenContainer) => Promise<T> | T,
  options: OpenOptions<T> = {},
): Promise<T> {
  validateId(id);
  const dir = containerDir(rt.roots, id);
  const { lock: locking = true, orElse } = options;
  let lock: Deno.FsFile | undefined;
  if (locking) {
    try {
      lock = await acquireOpLock(dir, id);
    } catch (error) {
      if (orElse && error instanceof ContainerNotFoundError) {
        return await orElse(dir, false);
      }
      throw error;
    }
  }
  try {
    let record: ContainerRecord;
    try {
      record = await loadRecord(dir, id);
    } catch (error) {
      if (
        orElse &&
        (error instanceof ContainerNotFoundError || error instanceof StateError)
      ) return await orElse(dir, locking);
      throw error;
    }
    const status = reconcile(record, dir, rt.sysfs, { holdsOpLock: locking });
    return await use({ id, dir, record, status });
  } finally {
    lock?.close();
  }
}
