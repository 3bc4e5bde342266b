/**
 * Container status and the transitions each verb may make, with runc's
 * wording for the ones it refuses.
 *
 * @module
 */
import { InvalidStateError } from "../util/errors.ts";

/**
 * OCI container status. `creating` is stored while `create` is at work.
 *
 * @example Statuses a container can be stopped from
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Status } from "./status.ts";
 *
 * const live: Status[] = ["created", "running"];
 * assert.ok(!live.includes("stopped"));
 * ```
 */
export type Status = "creating" | "created" | "running" | "stopped";

/**
 * Throws unless a container in `status` can be started.
 *
 * @param status The reconciled status.
 */
export function assertCanStart(status: Status): void {
  if (status === "created") return;
  if (status === "running") {
    throw new InvalidStateError(
      "cannot start an already running container",
      status,
    );
  }
  if (status === "stopped") {
    throw new InvalidStateError(
      "cannot start a container that has stopped",
      status,
    );
  }
  throw new InvalidStateError(
    `cannot start a container in the ${status} state`,
    status,
  );
}

/**
 * Whether signals can be delivered (runc: created or running).
 *
 * @param status The reconciled status.
 * @returns True when the container has a live process.
 */
export function canKill(status: Status): boolean {
  return status === "created" || status === "running";
}

/**
 * Throws unless a container can be deleted without `--force` (runc allows
 * created and stopped).
 *
 * @param id The container id, for the message.
 * @param status The reconciled status.
 */
export function assertCanDelete(id: string, status: Status): void {
  if (status === "stopped" || status === "created") return;
  throw new InvalidStateError(
    `cannot delete container ${id} that is not stopped: ${status}`,
    status,
  );
}
