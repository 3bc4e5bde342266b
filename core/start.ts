/**
 * `start`: copy the firmware into the firmware directory, write its name,
 * tell the proxy to start the processor, and succeed only once the
 * processor reads `running`; otherwise roll back and report what the
 * processor or kernel said.
 *
 * @module
 */
import { proxyReadyOrGone } from "./proxy_spawn.ts";
import { sendSignal } from "./libc.ts";
import { join, relative } from "./posix_path.ts";
import { FIRMWARE_ANNOTATION } from "./annotations.ts";
import { secureJoin } from "./bundle.ts";
import { checkpoint } from "./checkpoint.ts";
import { validateId } from "./container_id.ts";
import { claimDevice } from "./device.ts";
import { ConfigError, describeError, DeviceError } from "./errors.ts";
import {
  removeIfPresent,
  removeRecordedFirmware,
  storeFirmware,
} from "./firmware.ts";
import { verifyFirmware } from "./integrity.ts";
import { firmwareName } from "./placement.ts";
import { acquireOpLock, isProxyAlive, sleep } from "./locks.ts";
import { debug } from "./log.ts";
import { containerDir } from "./paths.ts";
import { assertOffline, stopProcessor } from "./processor.ts";
import {
  START_RESULT_FILE,
  START_SIGNAL,
  type StartResult,
} from "./proxy_protocol.ts";
import { reconcile } from "./reconcile.ts";
import { isPlaceholder, startPlaceholder } from "./sandbox.ts";
import { stopLeftBehind } from "./takeover.ts";
import { type ContainerRecord, loadRecord, saveRecord } from "./record.ts";
import type { Runtime } from "./runtime.ts";
import { assertCanStart } from "./status.ts";
import { type Device, label } from "./sysfs.ts";
import {
  pluginByName,
  startPolicyOf,
  stopPolicyOf,
} from "../plugins/registry.ts";
import type { StopPolicy } from "../plugins/types.ts";

/**
 * Starts a created container.
 *
 * @example Starting an unknown container fails (see `create` for a full lifecycle)
 * ```ts
 * import assert from "node:assert/strict";
 * import { start } from "./start.ts";
 * import { ContainerNotFoundError } from "./errors.ts";
 * import { openRuntime } from "./runtime.ts";
 * import { Simulator } from "../sim/simulator.ts";
 *
 * const tmp = Deno.makeTempDirSync();
 * const sim = await Simulator.create({ root: tmp, processors: [{ name: "m4" }] });
 * const rt = openRuntime({ sysroot: sim.root });
 *
 * await assert.rejects(start(rt, "missing"), ContainerNotFoundError);
 *
 * await sim.close();
 * Deno.removeSync(tmp, { recursive: true });
 * ```
 *
 * @param rt The runtime context.
 * @param id Container id.
 * @returns The updated record.
 */
export async function start(rt: Runtime, id: string): Promise<ContainerRecord> {
  validateId(id);
  const dir = containerDir(rt.roots, id);
  const lock = await acquireOpLock(dir, id);
  try {
    const record = await loadRecord(dir, id);
    assertCanStart(reconcile(record, dir, rt.sysfs, { holdsOpLock: true }));
    if (isPlaceholder(record)) return startPlaceholder(dir, record);
    const plugin = await pluginByName(record.plugin, rt.roots.sysroot);
    const device = currentDevice(rt, record);
    const context = {
      device,
      sysfs: rt.sysfs,
      annotations: record.annotations,
    };
    const refusal = plugin.refuses?.("deploy", context);
    if (refusal) throw new DeviceError(refusal);
    await stopLeftBehind(context, plugin, stopPolicyOf(plugin, device));
    await plugin.prepareStart?.(context);
    // Whatever the plugin did: firmware and start only go to an offline core.
    assertOffline(rt.sysfs, device);

    const source = recheckSource(record);
    const firmwareDir = rt.sysfs.firmwareDir();
    const name = firmwareName(
      source,
      plugin.firmwarePlacement?.(context) ?? {},
      device,
    );
    const stored = join(firmwareDir, name);
    // Record the intent first: a crash from here on leaves a record that
    // tells delete --force which file to remove.
    record.firmware.stored = stored;
    record.firmware.name = name;
    record.annotations[FIRMWARE_ANNOTATION] = name;
    saveRecord(dir, record);
    // The claim keeps the name too, so that delete --force finds the file
    // and the processor even when state.json is lost.
    claimDevice(rt.roots, device, { id, dir, firmware: name });
    checkpoint("start.intent");

    const policy = startPolicyOf(plugin, device);
    const stopPolicy = stopPolicyOf(plugin, device);
    let result: StartResult;
    try {
      storeFirmware(source, firmwareDir, name);
      // The copy is what the kernel loads: check it, not the rootfs file.
      await verifyFirmware(record.annotations, stored, "stored firmware");
      checkpoint("start.stored");
      debug(`start ${id}: stored ${stored}, signalling proxy ${record.pid}`);
      rt.sysfs.writeFirmware(device, name);
      checkpoint("start.firmware-written");
      removeIfPresent(join(dir, START_RESULT_FILE));
      // create does not wait for Deno to start in the proxy: SIGUSR1 before
      // it can take signals would kill one started without FFI (with FFI it
      // starts with them blocked). Waiting here overlaps the proxy's
      // start-up with this verb's own.
      if (!proxyReadyOrGone(dir)) {
        throw new Error("the proxy exited before the processor started");
      }
      sendSignal(record.pid, START_SIGNAL);
      checkpoint("start.signalled");
      const budget =
        (policy.timeoutMs + policy.retryDelayMs) * (policy.retries + 1) + 2_000;
      result = await waitStartResult(dir, budget);
    } catch (error) {
      result = { ok: false, message: describeError(error) };
    }
    if (result.ok) {
      checkpoint("start.running");
      record.status = "running";
      saveRecord(dir, record);
      return record;
    }
    await rollBack(rt, record, dir, device, stopPolicy);
    throw new DeviceError(result.message ?? `${label(device)} did not start`);
  } finally {
    lock.close();
  }
}

/** The processor as sysfs shows it now; it must still be the claimed one. */
function currentDevice(rt: Runtime, record: ContainerRecord): Device {
  const device = rt.sysfs.device(record.device.index);
  if (!device || device.name !== record.device.name) {
    throw new DeviceError(
      `${
        label(record.device)
      } is gone (the processor was removed or renumbered)`,
    );
  }
  return device;
}

/** Resolves the firmware again: the rootfs may have changed since create. */
function recheckSource(record: ContainerRecord): string {
  const inRoot = relative(record.rootfs, record.firmware.source);
  const again = secureJoin(record.rootfs, inRoot);
  let info: Deno.FileInfo | undefined;
  try {
    info = Deno.lstatSync(again);
  } catch {
    info = undefined;
  }
  if (again !== record.firmware.source || !info?.isFile) {
    throw new ConfigError(
      `firmware file /${inRoot} is no longer a regular file in the rootfs`,
    );
  }
  return again;
}

async function waitStartResult(
  dir: string,
  timeoutMs: number,
): Promise<StartResult> {
  const path = join(dir, START_RESULT_FILE);
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1;; delay = Math.min(delay * 2, 2)) {
    try {
      return JSON.parse(Deno.readTextFileSync(path)) as StartResult;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (!isProxyAlive(dir)) {
      // It may have written its result just before exiting.
      try {
        return JSON.parse(Deno.readTextFileSync(path)) as StartResult;
      } catch {
        return {
          ok: false,
          message: "the proxy exited before the processor started",
        };
      }
    }
    if (Date.now() > deadline) {
      return {
        ok: false,
        message: `no answer from the proxy within ${timeoutMs} ms`,
      };
    }
    await sleep(delay);
  }
}

async function rollBack(
  rt: Runtime,
  record: ContainerRecord,
  dir: string,
  device: Device,
  policy: StopPolicy,
): Promise<void> {
  if (isProxyAlive(dir)) {
    try {
      sendSignal(record.pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  try {
    if (rt.sysfs.readFirmware(device) === record.firmware.name) {
      await stopProcessor(rt.sysfs, device, policy);
    }
  } catch {
    // best effort: the processor never ran our firmware
  }
  if (record.firmware.stored) {
    removeRecordedFirmware(record.firmware.stored, record.firmware.name);
  }
  delete record.firmware.stored;
  delete record.firmware.name;
  delete record.annotations[FIRMWARE_ANNOTATION];
  record.status = "stopped";
  saveRecord(dir, record);
}
