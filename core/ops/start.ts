/**
 * `start`: copy the firmware out of the rootfs `create` resolved (through
 * descriptors, core/firmware/rootfs.ts) into the firmware directory, check the copy
 * as `create` checked the image, write its name, tell the proxy to start the
 * processor, and succeed only once the processor reads `running` and that
 * is recorded; otherwise roll back and report what the processor or kernel
 * said.
 *
 * @module
 */
import { proxyReadyOrGone } from "../proxy/spawn.ts";
import { sendSignal } from "../os/libc.ts";
import { join } from "../util/posix_path.ts";
import { FIRMWARE_ANNOTATION } from "../container/annotations.ts";
import { pausePoint } from "../util/test_pause_points.ts";
import { claimDevice } from "../device/claims.ts";
import {
  describeError,
  DeviceError,
  osReason,
  RuntimeError,
  StateError,
} from "../util/errors.ts";
import {
  checkFirmwareDir,
  publishFirmware,
  removeRecordedFirmware,
  storeFirmware,
} from "../firmware/store.ts";
import { pollUntil } from "../util/poll.ts";
import { checkFirmwareFile } from "../firmware/check.ts";
import { verifyFirmware } from "../firmware/integrity.ts";
import { firmwareName } from "../firmware/placement.ts";
import { isProxyAlive } from "../container/locks.ts";
import { debug } from "../util/log.ts";
import { oneLine } from "../util/message_text.ts";
import { hostPath } from "../container/paths.ts";
import { assertOffline, stopProcessor } from "../device/processor.ts";
import { START_SIGNAL, type StartResult } from "../proxy/protocol.ts";
import { clearStartResult, readStartResult } from "../proxy/files.ts";
import { type ContainerRecord, saveRecord } from "../container/record.ts";
import { withContainer } from "./open.ts";
import { isPlaceholder, startPlaceholder } from "./sandbox.ts";
import { stopLeftBehind } from "../container/takeover.ts";
import { type FirmwareSource, openFirmwareSource } from "../firmware/rootfs.ts";
import type { Runtime } from "../runtime.ts";
import { assertCanStart } from "../container/status.ts";
import { type Device, label } from "../device/sysfs.ts";
import {
  type Plugin,
  type PluginContext,
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
    if (isPlaceholder(record)) return startPlaceholder(dir, record);
    const plugin = await rt.plugins.byName(record.plugin, rt.roots.sysroot);
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

    const firmwareDir = rt.sysfs.firmwareDir();
    checkFirmwareDir(
      firmwareDir,
      firmwareDirLabel(rt, firmwareDir),
      rt.roots.sysroot,
    );
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
  });
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
  const { name, stored } = recordIntent(rt, record, dir, plugin, context, {
    firmwareDir,
  });
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
    pausePoint("start.stored");
    debug(`start ${id}: stored ${stored}, signalling proxy ${record.pid}`);
    rt.sysfs.writeFirmware(device, name);
    pausePoint("start.firmware-written");
    clearStartResult(dir);
    // create does not wait for Deno to start in the proxy: SIGUSR1 before
    // it can take signals would kill one started without FFI (with FFI it
    // starts with them blocked). Waiting here overlaps the proxy's
    // start-up with this verb's own.
    if (!proxyReadyOrGone(dir)) {
      throw new Error("the proxy exited before the processor started");
    }
    sendSignal(record.pid, START_SIGNAL);
    pausePoint("start.signalled");
    const budget =
      (policy.timeoutMs + policy.retryDelayMs) * (policy.retries + 1) + 2_000;
    const result = await waitStartResult(dir, budget);
    if (result.ok) {
      pausePoint("start.running");
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

/**
 * Names the copy and records it before anything is written: a crash from
 * here on leaves a record that tells delete --force (and a retried start)
 * which file to remove.
 */
function recordIntent(
  rt: Runtime,
  record: ContainerRecord,
  dir: string,
  plugin: Plugin,
  context: PluginContext,
  { firmwareDir }: { firmwareDir: string },
): { name: string; stored: string } {
  // A start killed after it recorded its copy left that copy (whole or
  // partial) behind: remove it before a new name replaces the old one.
  removeEarlierCopy(record);
  const { device } = context;
  const name = firmwareName(
    record.firmware.source,
    plugin.firmwarePlacement?.(context) ?? {},
    device,
  );
  const stored = join(firmwareDir, name);
  record.firmware.stored = stored;
  record.firmware.name = name;
  record.annotations[FIRMWARE_ANNOTATION] = name;
  saveRecordOrSay(dir, record);
  // The claim keeps the name too, so that delete --force finds the file
  // and the processor even when state.json is lost.
  claimDevice(rt.roots, device, { id: record.id, dir, firmware: name });
  pausePoint("start.intent");
  return { name, stored };
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
      }: ${osReason(error)}`,
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
        osReason(error)
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

/**
 * Undoes a failed start: kills the proxy, stops the processor if it runs
 * our firmware, removes the stored copy and the stale start result, and
 * records the container stopped. Never throws: what it could not undo is
 * returned, one phrase each, for the error to name after the real cause.
 */
/** Whether the proxy wrote its start result (a corrupt one counts as none). */
function reported(dir: string): boolean {
  try {
    return readStartResult(dir) !== undefined;
  } catch {
    return false;
  }
}

async function rollBack(
  rt: Runtime,
  record: ContainerRecord,
  dir: string,
  device: Device,
  policy: StopPolicy,
): Promise<string[]> {
  const problems: string[] = [];
  // A proxy that reported a refusal exits 1 on its own: give it a moment, so
  // that its engine sees that status rather than our SIGKILL (137).
  if (isProxyAlive(dir) && reported(dir)) {
    await pollUntil(() => isProxyAlive(dir) ? undefined : true, {
      timeoutMs: 1_000,
      delayMs: 2,
      maxDelayMs: 20,
    });
  }
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
    clearStartResult(dir);
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
        `stored firmware not removed: ${oneLine(stored)}: ${osReason(error)}`,
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
