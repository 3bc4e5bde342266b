/**
 * `delete`: remove a created or stopped container. A processor still
 * running our firmware (its proxy was SIGKILLed) is stopped first; the
 * stored firmware is removed and the claim released. `--force` kills a
 * running container first, and succeeds for an unknown id.
 *
 * @module
 */
import { validateId } from "./container_id.ts";
import { claimOf, releaseClaim } from "./device.ts";
import {
  ContainerNotFoundError,
  describeError,
  DeviceError,
  StateError,
} from "./errors.ts";
import { removeStoredFirmware } from "./firmware.ts";
import { acquireOpLock, isProxyAlive, sleep } from "./locks.ts";
import { debug } from "./log.ts";
import { containerDir } from "./paths.ts";
import { stopProcessor } from "./processor.ts";
import { reconcile } from "./reconcile.ts";
import { type ContainerRecord, loadRecord } from "./record.ts";
import type { Runtime } from "./runtime.ts";
import { assertCanDelete } from "./status.ts";
import { pluginByName, stopPolicyOf } from "../plugins/registry.ts";
import { genericPlugin } from "../plugins/generic.ts";
import type { Plugin } from "../plugins/types.ts";

/** Options of {@linkcode deleteContainer}. */
export interface DeleteOptions {
  /** Container id. */
  id: string;
  /** Kill a running container first; an unknown id is not an error. */
  force?: boolean | undefined;
  /** Told about problems `--force` cleaned past. */
  warn?: ((message: string) => void) | undefined;
}

/**
 * Deletes a container.
 *
 * @param rt The runtime context.
 * @param options Id and `--force`.
 */
export async function deleteContainer(
  rt: Runtime,
  options: DeleteOptions,
): Promise<void> {
  const { id, force = false } = options;
  validateId(id);
  const dir = containerDir(rt.roots, id);
  let lock: Deno.FsFile;
  try {
    lock = await acquireOpLock(dir, id);
  } catch (error) {
    if (force && error instanceof ContainerNotFoundError) return;
    throw error;
  }
  try {
    let record: ContainerRecord;
    try {
      record = await loadRecord(dir, id);
    } catch (error) {
      if (!force) throw error;
      if (
        !(error instanceof ContainerNotFoundError ||
          error instanceof StateError)
      ) throw error;
      await removeUnrecorded(rt, dir);
      return;
    }
    const status = reconcile(record, dir, rt.sysfs, { holdsOpLock: true });
    if (!force) assertCanDelete(id, status);
    debug(`delete ${id}: status ${status}, force ${force}`);
    await killProxy(record, dir);

    try {
      const device = rt.sysfs.device(record.device.index);
      if (
        record.firmware.name && device && device.name === record.device.name &&
        rt.sysfs.readFirmware(device) === record.firmware.name
      ) {
        let plugin: Plugin = genericPlugin;
        try {
          plugin = await pluginByName(record.plugin, rt.roots.sysroot);
        } catch (error) {
          if (!force) throw error;
          options.warn?.(`${describeError(error)}: stopping generically`);
        }
        const refusal = plugin.refuses?.("stop", {
          device,
          sysfs: rt.sysfs,
          annotations: record.annotations,
        });
        if (refusal) throw new DeviceError(refusal);
        await stopProcessor(rt.sysfs, device, stopPolicyOf(plugin, device));
      }
    } catch (error) {
      if (!force) throw error;
      options.warn?.(`processor not stopped: ${describeError(error)}`);
    }
    if (record.firmware.stored) removeStoredFirmware(record.firmware.stored);
    releaseClaim(rt.roots, record.device.index, { id, dir });
    Deno.removeSync(dir, { recursive: true });
  } finally {
    lock.close();
  }
}

/** SIGKILLs the proxy if it lives and waits until its lock is released. */
async function killProxy(record: ContainerRecord, dir: string): Promise<void> {
  if (record.pid <= 0 || !isProxyAlive(dir)) return;
  try {
    Deno.kill(record.pid, "SIGKILL");
  } catch {
    // gone meanwhile
  }
  const deadline = Date.now() + 5_000;
  while (isProxyAlive(dir) && Date.now() < deadline) await sleep(2);
}

/**
 * `delete --force` of a container whose record is missing or corrupt: drop
 * any claim that names its directory and remove the directory.
 */
async function removeUnrecorded(rt: Runtime, dir: string): Promise<void> {
  for (const device of rt.sysfs.listDevices()) {
    const claim = claimOf(rt.roots, device.index);
    if (claim?.dir === dir) releaseClaim(rt.roots, device.index, claim);
  }
  await Promise.resolve();
  Deno.removeSync(dir, { recursive: true });
}
