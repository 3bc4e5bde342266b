/**
 * `delete`: remove a created or stopped container. A processor still
 * running our firmware (its proxy was SIGKILLed) is stopped first; the
 * stored firmware is removed and the claim released. `--force` kills a
 * running container first, and succeeds for an unknown id.
 *
 * @module
 */
import { sendSignal } from "./libc.ts";
import { join } from "./posix_path.ts";
import { checkpoint } from "./checkpoint.ts";
import { removeContainerDir } from "./container_dir.ts";
import { validateId } from "./container_id.ts";
import { claimedByOther, claimOf, releaseClaim } from "./device.ts";
import {
  ContainerNotFoundError,
  describeError,
  DeviceError,
  StateError,
} from "./errors.ts";
import {
  isStoredFirmwareName,
  removeRecordedFirmware,
  removeStoredFirmware,
} from "./firmware.ts";
import { acquireOpLock, isProxyAlive, sleep } from "./locks.ts";
import { debug } from "./log.ts";
import { containerDir } from "./paths.ts";
import { READY_FILE } from "./proxy_protocol.ts";
import { proxyReadyOrGone } from "./proxy_spawn.ts";
import { stopProcessor } from "./processor.ts";
import { reconcile } from "./reconcile.ts";
import { type ContainerRecord, loadRecord } from "./record.ts";
import type { Runtime } from "./runtime.ts";
import { assertCanDelete } from "./status.ts";
import { pluginByName, stopPolicyOf } from "../plugins/registry.ts";
import { genericPlugin } from "../plugins/generic.ts";
import type { Plugin } from "../plugins/types.ts";

/**
 * Options of {@linkcode deleteContainer}.
 *
 * @example Force a delete and collect warnings
 * ```ts
 * import type { DeleteOptions } from "./delete.ts";
 *
 * const warnings: string[] = [];
 * const options: DeleteOptions = {
 *   id: "fw1",
 *   force: true,
 *   warn: (message) => warnings.push(message),
 * };
 * options.warn?.("processor already offline");
 * ```
 */
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
 * @example `force` makes an unknown id no error
 * ```ts
 * import assert from "node:assert/strict";
 * import { deleteContainer } from "./delete.ts";
 * import { ContainerNotFoundError } from "./errors.ts";
 * import { openRuntime } from "./runtime.ts";
 * import { Simulator } from "../sim/simulator.ts";
 *
 * const tmp = Deno.makeTempDirSync();
 * const sim = await Simulator.create({ root: tmp, processors: [{ name: "m4" }] });
 * const rt = openRuntime({ sysroot: sim.root });
 *
 * await deleteContainer(rt, { id: "missing", force: true });
 * await assert.rejects(
 *   deleteContainer(rt, { id: "missing" }),
 *   ContainerNotFoundError,
 * );
 *
 * await sim.close();
 * Deno.removeSync(tmp, { recursive: true });
 * ```
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
      await removeUnrecorded(rt, dir, options.warn);
      return;
    }
    const status = reconcile(record, dir, rt.sysfs, { holdsOpLock: true });
    if (!force) assertCanDelete(id, status);
    debug(`delete ${id}: status ${status}, force ${force}`);
    await killProxy(record.pid, dir);
    checkpoint("delete.killed");

    try {
      const device = rt.sysfs.device(record.device.index);
      if (
        record.firmware.name && device && device.name === record.device.name &&
        rt.sysfs.readFirmware(device) === record.firmware.name &&
        // Taken over by the next container (core/takeover.ts): not ours.
        !claimedByOther(rt.roots, device.index, { id, dir })
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
    checkpoint("delete.stopped");
    if (record.firmware.stored) {
      removeRecordedFirmware(record.firmware.stored, record.firmware.name);
    }
    checkpoint("delete.firmware-removed");
    if (!record.placeholder) {
      releaseClaim(rt.roots, record.device.index, { id, dir });
    }
    checkpoint("delete.released");
    removeContainerDir(dir);
  } finally {
    lock.close();
  }
}

/**
 * SIGKILLs the proxy if it lives and waits until its lock is released. The
 * pid comes from the record, or, when `create` died before recording it,
 * from the proxy's own ready file (waiting for it if need be). The held
 * lock proves the pid is still the proxy's.
 */
async function killProxy(recorded: number, dir: string): Promise<void> {
  if (!isProxyAlive(dir)) return;
  let pid = recorded > 0 ? recorded : readyPid(dir);
  if (pid === undefined) {
    // create died between spawning the proxy and recording its pid: the
    // proxy writes it in its ready file once Deno has started in it.
    try {
      if (proxyReadyOrGone(dir)) pid = readyPid(dir);
    } catch {
      // not ready in time
    }
  }
  if (pid === undefined) return;
  try {
    sendSignal(pid, "SIGKILL");
  } catch {
    // gone meanwhile
  }
  const deadline = Date.now() + 5_000;
  while (isProxyAlive(dir) && Date.now() < deadline) await sleep(2);
}

/** The pid the proxy wrote in its ready file, if it got that far. */
function readyPid(dir: string): number | undefined {
  try {
    const pid = Number(Deno.readTextFileSync(join(dir, READY_FILE)));
    return Number.isSafeInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `delete --force` of a container whose record is missing or corrupt. The
 * claim naming its directory says which processor it held and, once
 * started, which firmware it stored: kill the proxy, stop the processor if
 * it still runs that firmware, remove the stored file, drop the claim and
 * remove the directory.
 */
async function removeUnrecorded(
  rt: Runtime,
  dir: string,
  warn: ((message: string) => void) | undefined,
): Promise<void> {
  await killProxy(0, dir);
  for (const device of rt.sysfs.listDevices()) {
    const claim = claimOf(rt.roots, device.index);
    if (claim?.dir !== dir) continue;
    const name = claim.firmware;
    if (name !== undefined && isStoredFirmwareName(name)) {
      try {
        if (rt.sysfs.readFirmware(device) === name) {
          // The record (and so the plugin) is lost: stop generically.
          await stopProcessor(
            rt.sysfs,
            device,
            stopPolicyOf(genericPlugin, device),
          );
        }
      } catch (error) {
        warn?.(`processor not stopped: ${describeError(error)}`);
      }
      removeStoredFirmware(join(rt.sysfs.firmwareDir(), name));
    }
    releaseClaim(rt.roots, device.index, claim);
  }
  removeContainerDir(dir);
}
