/**
 * `delete`: remove a created or stopped container. A processor still
 * running our firmware (its proxy was SIGKILLed) is stopped first; the
 * stored firmware is removed and the claim released. `--force` kills a
 * running container first, succeeds for an unknown id, and always removes
 * the container and releases its processor: what it could not stop or
 * remove it names in a warning.
 *
 * @module
 */
import { sendSignal } from "../os/libc.ts";
import { join } from "../util/posix_path.ts";
import { pausePoint } from "../util/test_pause_points.ts";
import { removeContainerDir } from "../container/removal.ts";
import { claimedByOther, claimOf, releaseClaim } from "../device/claims.ts";
import {
  describeError,
  DeviceError,
  osReason,
  RuntimeError,
} from "../util/errors.ts";
import {
  isStoredFirmwareName,
  removeRecordedFirmware,
  removeStoredFirmware,
} from "../firmware/store.ts";
import { isProxyAlive } from "../container/locks.ts";
import { pollUntil } from "../util/poll.ts";
import { debug } from "../util/log.ts";
import { readyPid } from "../proxy/files.ts";
import { proxyReadyOrGone } from "../proxy/spawn.ts";
import { stopProcessor } from "../device/processor.ts";
import type { ContainerRecord } from "../container/record.ts";
import { withContainer } from "./open.ts";
import type { Runtime } from "../runtime.ts";
import { assertCanDelete } from "../container/status.ts";
import { type Plugin, stopPolicyOf } from "../plugin/types.ts";
import { oneLine } from "../util/message_text.ts";

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
 * import { ContainerNotFoundError } from "../util/errors.ts";
 * import { openRuntime } from "../runtime.ts";
 * import { Simulator } from "../../sim/simulator.ts";
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
export function deleteContainer(
  rt: Runtime,
  options: DeleteOptions,
): Promise<void> {
  const { id, force = false } = options;
  return withContainer(rt, id, async ({ dir, record, status }) => {
    if (!force) assertCanDelete(id, status);
    debug(`delete ${id}: status ${status}, force ${force}`);
    await killProxy(record.pid, dir);
    pausePoint("delete.killed");
    try {
      await stopOurFirmware(rt, dir, record, force, options.warn);
    } catch (error) {
      if (!force) throw error;
      options.warn?.(`processor not stopped: ${describeError(error)}`);
    }
    pausePoint("delete.stopped");
    const { stored, name } = record.firmware;
    if (stored !== undefined) {
      removeFirmware(stored, () => removeRecordedFirmware(stored, name), {
        force,
        warn: options.warn,
      });
    }
    pausePoint("delete.firmware-removed");
    if (!record.placeholder) {
      releaseClaim(rt.roots, record.device.index, { id, dir });
    }
    pausePoint("delete.released");
    removeContainerDir(dir);
  }, {
    // --force: no container is no error; an unreadable one is removed by
    // what its claims say.
    orElse: force
      ? (dir, locked) =>
        locked ? removeUnrecorded(rt, dir, options.warn) : undefined
      : undefined,
  });
}

/**
 * Stops the processor if it still runs the container's firmware (its proxy
 * was SIGKILLed), with its plugin's policy, or generically when the plugin
 * cannot be loaded and `force` is given.
 */
async function stopOurFirmware(
  rt: Runtime,
  dir: string,
  record: ContainerRecord,
  force: boolean,
  warn: DeleteOptions["warn"],
): Promise<void> {
  const device = rt.sysfs.device(record.device.index);
  if (
    !record.firmware.name || !device || device.name !== record.device.name ||
    rt.sysfs.readFirmware(device) !== record.firmware.name ||
    // Taken over by the next container (../container/takeover.ts): not ours.
    claimedByOther(rt.roots, device.index, { id: record.id, dir })
  ) return;
  let plugin: Plugin = rt.plugins.fallback;
  try {
    plugin = await rt.plugins.byName(record.plugin, rt.roots.sysroot);
  } catch (error) {
    if (!force) throw error;
    warn?.(`${describeError(error)}: stopping generically`);
  }
  const refusal = plugin.refuses?.("stop", {
    device,
    sysfs: rt.sysfs,
    annotations: record.annotations,
  });
  if (refusal) throw new DeviceError(refusal);
  await stopProcessor(rt.sysfs, device, stopPolicyOf(plugin, device));
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
  await pollUntil(() => isProxyAlive(dir) ? undefined : true, {
    timeoutMs: 5_000,
    delayMs: 2,
  });
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
            stopPolicyOf(rt.plugins.fallback, device),
          );
        }
      } catch (error) {
        warn?.(`processor not stopped: ${describeError(error)}`);
      }
      let path: string | undefined;
      try {
        path = join(rt.sysfs.firmwareDir(), name);
      } catch (error) {
        warn?.(`stored firmware ${name} not removed: ${describeError(error)}`);
      }
      const stored = path;
      if (stored !== undefined) {
        removeFirmware(stored, () => removeStoredFirmware(stored), {
          force: true,
          warn,
        });
      }
    }
    releaseClaim(rt.roots, device.index, claim);
  }
  removeContainerDir(dir);
}

/**
 * Removes stored firmware. What cannot be removed stops a plain delete with
 * one line naming the file; `--force` names it in one warning and goes on,
 * so that the container and the processor are released whatever the
 * firmware directory does.
 */
function removeFirmware(
  path: string,
  remove: () => void,
  options: {
    force: boolean;
    warn: ((message: string) => void) | undefined;
  },
): void {
  try {
    remove();
  } catch (error) {
    const what = `stored firmware ${oneLine(path)}`;
    const reason = error instanceof RuntimeError
      ? error.message
      : osReason(error);
    if (!options.force) {
      throw new RuntimeError(`cannot remove ${what}: ${reason}`, {
        cause: error,
      });
    }
    options.warn?.(`${what} not removed: ${reason}`);
  }
}
