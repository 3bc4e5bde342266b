/**
 * A stopped container does not hold its processor. The kubelet restarts a
 * crashed container by creating a new one (the next attempt) and keeps the
 * exited one for `kubectl logs --previous`; CRI-O keeps its runtime
 * container until RemoveContainer. So:
 *
 * - a claim whose holder has stopped (no verb at work on it, its proxy
 *   gone) is taken over by the next container that claims the processor
 *   ({@linkcode holdsProcessor});
 * - that container's `start` first stops a processor the stopped one left
 *   `crashed` (or `running`, its proxy SIGKILLed), then loads its own
 *   firmware ({@linkcode stopLeftBehind});
 * - deleting the stopped container afterwards leaves the processor alone
 *   and removes only its own stored firmware (`claimedByOther` in
 *   core/device/claims.ts).
 *
 * @module
 */
import { join } from "../util/posix_path.ts";
import { DeviceError } from "../util/errors.ts";
import { isStoredFirmwareName } from "../firmware/store.ts";
import { OP_LOCK, PROXY_LOCK } from "./locks.ts";
import { debug } from "../util/log.ts";
import { stopProcessor } from "../device/processor.ts";
import { label } from "../device/sysfs.ts";
import type { Plugin, PluginContext, StopPolicy } from "../plugin/types.ts";

/**
 * Whether the container whose state directory is `dir` still holds the
 * processor it claimed: it exists and a verb is at work on it (create,
 * start, delete hold its operation lock) or its proxy lives. A container
 * that has stopped can never run again (`start` refuses it), so its claim
 * may be taken over. A lock that cannot be looked at (Landlock confines
 * `create` to the paths it was planned: see `createPlan`) counts as held.
 *
 * @param dir The claim holder's state directory.
 * @returns True while it holds the processor, or when that is unknown.
 */
export function holdsProcessor(dir: string): boolean {
  try {
    if (!Deno.statSync(dir).isDirectory) return false;
  } catch {
    return false;
  }
  return heldOrUnknown(join(dir, OP_LOCK)) ||
    heldOrUnknown(join(dir, PROXY_LOCK));
}

/**
 * Whether a lock file is locked; a file that is missing is not, one that
 * cannot be opened counts as locked.
 */
function heldOrUnknown(path: string): boolean {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (error) {
    return !(error instanceof Deno.errors.NotFound);
  }
  try {
    if (!file.tryLockSync(true)) return true;
    file.unlockSync();
    return false;
  } finally {
    file.close();
  }
}

/**
 * Before `start` loads firmware: a processor that reads `crashed` or
 * `running` with firmware the runtime stored (a name only it makes) was
 * left so by a stopped container whose claim this one holds now; stop it,
 * so that the firmware can be loaded again. Anything else is left to the
 * offline check.
 *
 * @param context The plugin context of the container being started.
 * @param plugin Its plugin (it may refuse to stop the core).
 * @param policy Its stop policy.
 * @throws {DeviceError} When the plugin refuses or the core does not stop.
 */
export async function stopLeftBehind(
  context: PluginContext,
  plugin: Plugin,
  policy: StopPolicy,
): Promise<void> {
  const { sysfs, device } = context;
  const state = sysfs.readState(device);
  if (state !== "crashed" && state !== "running") return;
  const firmware = sysfs.readFirmware(device);
  if (!isStoredFirmwareName(firmware)) return;
  const refusal = plugin.refuses?.("stop", context);
  if (refusal) throw new DeviceError(refusal);
  debug(
    `${
      label(device)
    } reads ${state} with ${firmware}, left by a stopped container: stopping it`,
  );
  await stopProcessor(sysfs, device, policy);
}
