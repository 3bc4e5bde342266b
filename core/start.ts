/**
 * `start`: copy the firmware out of the rootfs `create` resolved (through
 * descriptors, core/rootfs.ts) into the firmware directory, check the copy
 * as `create` checked the image, write its name, tell the proxy to start the
 * processor, and succeed only once the processor reads `running` and that
 * is recorded; otherwise roll back and report what the processor or kernel
 * said.
 *
 * @module
 */
import { proxyReadyOrGone } from "./proxy_spawn.ts";
import { sendSignal } from "./libc.ts";
import { join } from "./posix_path.ts";
import { FIRMWARE_ANNOTATION } from "./annotations.ts";
import { checkpoint } from "./checkpoint.ts";
import { validateId } from "./container_id.ts";
import { claimDevice } from "./device.ts";
import {
  describeError,
  DeviceError,
  RuntimeError,
  StateError,
} from "./errors.ts";
import {
  checkFirmwareDir,
  publishFirmware,
  removeIfPresent,
  removeRecordedFirmware,
  storeFirmware,
} from "./firmware.ts";
import { checkFirmwareFile } from "./firmware_check.ts";
import { verifyFirmware } from "./integrity.ts";
import { firmwareName } from "./placement.ts";
import { acquireOpLock, isProxyAlive, sleep } from "./locks.ts";
import { debug } from "./log.ts";
import { oneLine } from "./message_text.ts";
import { containerDir, hostPath } from "./paths.ts";
import { assertOffline, stopProcessor } from "./processor.ts";
import {
  START_RESULT_FILE,
  START_SIGNAL,
  type StartResult,
} from "./proxy_protocol.ts";
import { reconcile } from "./reconcile.ts";
import { type ContainerRecord, loadRecord, saveRecord } from "./record.ts";
import { type FirmwareSource, openFirmwareSource } from "./rootfs.ts";
import type { Runtime } from "./runtime.ts";
import { assertCanStart } from "./status.ts";
import { type Device, errnoText, label } from "./sysfs.ts";
import {
  pluginByName,
  startPolicyOf,
  stopPolicyOf,
} from "../plugins/registry.ts";
import type { Plugin, PluginContext, StopPolicy } from "../plugins/types.ts";

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
    const plugin = await pluginByName(record.plugin, rt.roots.sysroot);
    const device = currentDevice(rt, record);
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

    const firmwareDir = rt.sysfs.firmwareDir();
    checkFirmwareDir(firmwareDir, firmwareDirLabel(rt, firmwareDir));
    // The rootfs may have changed since create: the bytes stored come from
    // the directory create resolved, through descriptors, or start stops here.
    const source = openFirmwareSource(
      record.rootfs,
      record.firmware.source,
      record.rootfsIdentity,
    );
    try {
      return await deploy(rt, record, dir, plugin, context, {
        source,
        firmwareDir,
      });
    } finally {
      source.close();
    }
  } finally {
    lock.close();
  }
}

/**
 * Stores the firmware, has the proxy start the processor, and records it
 * running; on any failure after the intent is recorded, rolls back.
 */
async function deploy(
  rt: Runtime,
  record: ContainerRecord,
  dir: string,
  plugin: Plugin,
  context: PluginContext,
  { source, firmwareDir }: { source: FirmwareSource; firmwareDir: string },
): Promise<ContainerRecord> {
  const { id } = record;
  const { device } = context;
  // A start killed after it recorded its copy left that copy (whole or
  // partial) behind: remove it before a new name replaces the old one.
  removeEarlierCopy(record);
  const name = firmwareName(
    record.firmware.source,
    plugin.firmwarePlacement?.(context) ?? {},
    device,
  );
  const stored = join(firmwareDir, name);
  // Record the intent first: a crash from here on leaves a record that
  // tells delete --force (and a retried start) which file to remove.
  record.firmware.stored = stored;
  record.firmware.name = name;
  record.annotations[FIRMWARE_ANNOTATION] = name;
  saveRecordOrSay(dir, record);
  // The claim keeps the name too, so that delete --force finds the file
  // and the processor even when state.json is lost.
  claimDevice(rt.roots, device, { id, dir, firmware: name });
  checkpoint("start.intent");

  const policy = startPolicyOf(plugin, device);
  const stopPolicy = stopPolicyOf(plugin, device);
  let message: string;
  try {
    storeFirmware(source, firmwareDir, name);
    // The copy is what the kernel loads: check it, not the rootfs file, as
    // create checked the image (digest, ELF and the plugin's requirements).
    const image = Deno.readFileSync(stored);
    await verifyFirmware(record.annotations, stored, "stored firmware", image);
    checkFirmwareFile(stored, source.shown, plugin, context, image);
    publishFirmware(stored);
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
    const result = await waitStartResult(dir, budget);
    if (result.ok) {
      checkpoint("start.running");
      record.status = "running";
      // Saved inside the rollback's reach: a start that cannot record the
      // running processor stops it again rather than exit 1 leaving it up.
      saveRecordOrSay(dir, record);
      return record;
    }
    message = result.message ?? `${label(device)} did not start`;
  } catch (error) {
    message = describeError(error);
  }
  const problems = await rollBack(rt, record, dir, device, stopPolicy);
  throw new DeviceError([message, ...problems].join("; "));
}

/** The firmware directory as messages name it. */
function firmwareDirLabel(rt: Runtime, firmwareDir: string): string {
  return firmwareDir === hostPath(rt.roots.sysroot, "/lib/firmware")
    ? `firmware directory ${oneLine(firmwareDir)}`
    : `firmware directory ${oneLine(firmwareDir)} (firmware_class.path)`;
}

/** Removes the copy an earlier, killed start recorded, if any. */
function removeEarlierCopy(record: ContainerRecord): void {
  const { stored, name } = record.firmware;
  if (stored === undefined) return;
  try {
    removeRecordedFirmware(stored, name);
  } catch (error) {
    throw new RuntimeError(
      `cannot remove the firmware an earlier start stored, ${
        oneLine(stored)
      }: ${errnoText(error)}`,
    );
  }
}

/** saveRecord, failing with one line that names the directory. */
function saveRecordOrSay(dir: string, record: ContainerRecord): void {
  try {
    saveRecord(dir, record);
  } catch (error) {
    if (error instanceof RuntimeError) throw error;
    throw new StateError(
      `cannot save the state of container ${record.id} in ${oneLine(dir)}: ${
        errnoText(error)
      }`,
    );
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

/**
 * Undoes a failed start: kills the proxy, stops the processor if it runs
 * our firmware, removes the stored copy and the stale start result, and
 * records the container stopped. Never throws: what it could not undo is
 * returned, one phrase each, for the error to name after the real cause.
 */
async function rollBack(
  rt: Runtime,
  record: ContainerRecord,
  dir: string,
  device: Device,
  policy: StopPolicy,
): Promise<string[]> {
  const problems: string[] = [];
  if (isProxyAlive(dir)) {
    try {
      sendSignal(record.pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  let stopped = true;
  try {
    if (rt.sysfs.readFirmware(device) === record.firmware.name) {
      await stopProcessor(rt.sysfs, device, policy);
    }
  } catch (error) {
    stopped = false;
    problems.push(`processor not stopped: ${describeError(error)}`);
  }
  try {
    // Stale, and on a full state root it holds the space the save needs.
    removeIfPresent(join(dir, START_RESULT_FILE));
  } catch {
    // the save below says what is wrong with the directory
  }
  // A processor that may still run our firmware keeps it, and its name on
  // record, for delete --force to stop it and remove the file.
  const { stored, name } = record.firmware;
  if (stopped && stored !== undefined) {
    try {
      removeRecordedFirmware(stored, name);
      delete record.firmware.stored;
      delete record.firmware.name;
      delete record.annotations[FIRMWARE_ANNOTATION];
    } catch (error) {
      problems.push(
        `stored firmware not removed: ${oneLine(stored)}: ${errnoText(error)}`,
      );
    }
  }
  record.status = "stopped";
  try {
    saveRecordOrSay(dir, record);
  } catch (error) {
    problems.push(describeError(error));
  }
  return problems;
}
