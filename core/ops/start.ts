/**
 * `start`: copy the firmware into the firmware directory, write its name,
 * tell the proxy to start the processor, and succeed only once the
 * processor reads `running`; otherwise roll back and report what the
 * processor or kernel said.
 *
 * @module
 */
import { proxyReadyOrGone } from "../proxy/spawn.ts";
import { sendSignal } from "../os/libc.ts";
import { join, relative } from "../util/posix_path.ts";
import { FIRMWARE_ANNOTATION } from "../container/annotations.ts";
import { secureJoin } from "../firmware/bundle.ts";
import { pausePoint } from "../util/test_pause_points.ts";
import { claimDevice } from "../device/claims.ts";
import { ConfigError, describeError, DeviceError } from "../util/errors.ts";
import { removeRecordedFirmware, storeFirmware } from "../firmware/store.ts";
import { pollUntil } from "../util/poll.ts";
import { verifyFirmware } from "../firmware/integrity.ts";
import { firmwareName } from "../firmware/placement.ts";
import { isProxyAlive } from "../container/locks.ts";
import { debug } from "../util/log.ts";
import { assertOffline, stopProcessor } from "../device/processor.ts";
import { START_SIGNAL, type StartResult } from "../proxy/protocol.ts";
import { clearStartResult, readStartResult } from "../proxy/files.ts";
import { type ContainerRecord, saveRecord } from "../container/record.ts";
import { withContainer } from "./open.ts";
import type { Runtime } from "../runtime.ts";
import { assertCanStart } from "../container/status.ts";
import { type Device, label } from "../device/sysfs.ts";
import {
  type Plugin,
  type StartPolicy,
  startPolicyOf,
  type StopPolicy,
  stopPolicyOf,
} from "../plugin/types.ts";

/**
 * Starts a created container.
 *
 * @example Starting an unknown container fails (see `create` for a full lifecycle)
 * ```ts
 * import assert from "node:assert/strict";
 * import { start } from "./start.ts";
 * import { ContainerNotFoundError } from "../util/errors.ts";
 * import { openRuntime } from "../runtime.ts";
 * import { Simulator } from "../../sim/simulator.ts";
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
export function start(rt: Runtime, id: string): Promise<ContainerRecord> {
  return withContainer(rt, id, async ({ dir, record, status }) => {
    assertCanStart(status);
    const plugin = await rt.plugins.byName(record.plugin, rt.roots.sysroot);
    const device = currentDevice(rt, record);
    const copy = await prepareDeploy(rt, record, plugin, device);
    const { name, stored } = copy;
    // Record the intent first: a crash from here on leaves a record that
    // tells delete --force which file to remove.
    record.firmware.stored = stored;
    record.firmware.name = name;
    record.annotations[FIRMWARE_ANNOTATION] = name;
    saveRecord(dir, record);
    // The claim keeps the name too, so that delete --force finds the file
    // and the processor even when state.json is lost.
    claimDevice(rt.roots, device, { id, dir, firmware: name });
    pausePoint("start.intent");

    let result: StartResult;
    try {
      result = await deploy(
        rt,
        dir,
        record,
        device,
        copy,
        startPolicyOf(plugin, device),
      );
    } catch (error) {
      result = { ok: false, message: describeError(error) };
    }
    if (result.ok) {
      pausePoint("start.running");
      record.status = "running";
      saveRecord(dir, record);
      return record;
    }
    await rollBack(rt, record, dir, device, stopPolicyOf(plugin, device));
    throw new DeviceError(result.message ?? `${label(device)} did not start`);
  });
}

/** The firmware to deploy and where its copy goes. */
interface FirmwareCopy {
  /** The file in the rootfs. */
  source: string;
  /** The firmware directory. */
  firmwareDir: string;
  /** The copy's name, relative to the firmware directory. */
  name: string;
  /** The copy. */
  stored: string;
}

/**
 * Asks the plugin, brings the processor to `offline`, and resolves the
 * firmware and the name of its copy; nothing is written yet.
 */
async function prepareDeploy(
  rt: Runtime,
  record: ContainerRecord,
  plugin: Plugin,
  device: Device,
): Promise<FirmwareCopy> {
  const context = {
    device,
    sysfs: rt.sysfs,
    annotations: record.annotations,
  };
  const refusal = plugin.refuses?.("deploy", context);
  if (refusal) throw new DeviceError(refusal);
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
  return { source, firmwareDir, name, stored: join(firmwareDir, name) };
}

/**
 * Stores the firmware, writes its name, has the proxy start the processor
 * and waits for its answer.
 */
async function deploy(
  rt: Runtime,
  dir: string,
  record: ContainerRecord,
  device: Device,
  { source, firmwareDir, name, stored }: FirmwareCopy,
  policy: StartPolicy,
): Promise<StartResult> {
  storeFirmware(source, firmwareDir, name);
  // The copy is what the kernel loads: check it, not the rootfs file.
  await verifyFirmware(record.annotations, stored, "stored firmware");
  pausePoint("start.stored");
  debug(`start ${record.id}: stored ${stored}, signalling proxy ${record.pid}`);
  rt.sysfs.writeFirmware(device, name);
  pausePoint("start.firmware-written");
  clearStartResult(dir);
  // create does not wait for Deno to start in the proxy: SIGUSR1 before
  // it can take signals would kill one started without FFI (with FFI it
  // starts with them blocked). Waiting here overlaps the proxy's start-up
  // with this verb's own.
  if (!proxyReadyOrGone(dir)) {
    throw new Error("the proxy exited before the processor started");
  }
  sendSignal(record.pid, START_SIGNAL);
  pausePoint("start.signalled");
  const budget =
    (policy.timeoutMs + policy.retryDelayMs) * (policy.retries + 1) + 2_000;
  return await waitStartResult(dir, budget);
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

const PROXY_EXITED: StartResult = {
  ok: false,
  message: "the proxy exited before the processor started",
};

async function waitStartResult(
  dir: string,
  timeoutMs: number,
): Promise<StartResult> {
  const result = await pollUntil(() => {
    const result = readStartResult(dir);
    if (result !== undefined || isProxyAlive(dir)) return result;
    // It may have written its result just before exiting.
    try {
      return readStartResult(dir) ?? PROXY_EXITED;
    } catch {
      return PROXY_EXITED;
    }
  }, { timeoutMs, delayMs: 1, maxDelayMs: 2 });
  return result ?? {
    ok: false,
    message: `no answer from the proxy within ${timeoutMs} ms`,
  };
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
