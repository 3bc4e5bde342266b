/**
 * The truth about a container: its stored status reconciled with whether
 * its proxy is alive (a held lock, immune to pid reuse) and with what the
 * processor reports.
 *
 * @module
 */
import { join } from "../util/posix_path.ts";
import { isLockHeld, isProxyAlive, OP_LOCK } from "./locks.ts";
import { readStartResult } from "../proxy/files.ts";
import type { ContainerRecord } from "./record.ts";
import type { Status } from "./status.ts";
import type { Sysfs } from "../device/sysfs.ts";
import { stateMeaning } from "../device/processor_state.ts";

/** Options of {@linkcode reconcile}. */
export interface ReconcileOptions {
  /** The caller holds the container's operation lock itself. */
  holdsOpLock?: boolean;
}

/**
 * Computes the status to report.
 *
 * - `creating`: while `create` is at work; if it died, `stopped`.
 * - `created`: while the proxy lives; `stopped` once it is gone. If the
 *   proxy reported a successful start that `start` did not get to record
 *   (it was killed), the container is `running` as below.
 * - `running`: while the proxy lives and the processor's state does not
 *   mean `stopped` (the generic table with the plugin's aliases, recorded
 *   at create; the proxy exits within one poll of that); else `stopped`.
 *
 * @param record The stored record.
 * @param dir The container's state directory.
 * @param sysfs Sysfs access, to read the processor.
 * @param options Whether the caller holds the operation lock.
 * @returns The status.
 */
export function reconcile(
  record: ContainerRecord,
  dir: string,
  sysfs: Sysfs,
  options: ReconcileOptions = {},
): Status {
  switch (record.status) {
    case "creating":
      return !options.holdsOpLock && isLockHeld(join(dir, OP_LOCK))
        ? "creating"
        : "stopped";
    case "created":
      if (!isProxyAlive(dir)) return "stopped";
      if (!startReported(dir)) return "created";
      return stateMeaning(
          sysfs.readState(record.device),
          record.stateAliases,
        ) ===
          "stopped"
        ? "stopped"
        : "running";
    case "running": {
      if (!isProxyAlive(dir)) return "stopped";
      if (record.placeholder) return "running"; // no processor to ask
      const state = sysfs.readState(record.device);
      return stateMeaning(state, record.stateAliases) === "stopped"
        ? "stopped"
        : "running";
    }
    case "stopped":
      return "stopped";
  }
}

/** Whether the proxy wrote a successful start result. */
function startReported(dir: string): boolean {
  try {
    return readStartResult(dir)?.ok === true;
  } catch {
    return false;
  }
}
