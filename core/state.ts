/**
 * `state`, `list` and `ps`: report the truth about containers without
 * changing anything.
 *
 * @module
 */
import { join } from "node:path";
import { validateId } from "./container_id.ts";
import { containerDir } from "./paths.ts";
import { reconcile } from "./reconcile.ts";
import { type ContainerRecord, loadRecord } from "./record.ts";
import type { Runtime } from "./runtime.ts";
import type { Status } from "./status.ts";
import { SPEC_VERSION } from "./version.ts";

/** The OCI state document, plus runc's `rootfs` and `created`. */
export interface OciState {
  /** The OCI runtime spec version the document follows. */
  ociVersion: string;
  /** Container id. */
  id: string;
  /** Reconciled status. */
  status: Status;
  /** The proxy's pid; 0 once stopped. */
  pid: number;
  /** Absolute bundle path. */
  bundle: string;
  /** Absolute rootfs path (runc adds it too). */
  rootfs: string;
  /** Creation time, ISO 8601 (runc adds it too). */
  created: string;
  /** Annotations, including those the runtime adds. */
  annotations: Record<string, string>;
}

/**
 * The state of a container.
 *
 * @param rt The runtime context.
 * @param id Container id.
 * @returns The OCI state document.
 */
export async function state(rt: Runtime, id: string): Promise<OciState> {
  validateId(id);
  const dir = containerDir(rt.roots, id);
  const record = await loadRecord(dir, id);
  return toOciState(record, reconcile(record, dir, rt.sysfs));
}

function toOciState(record: ContainerRecord, status: Status): OciState {
  return {
    ociVersion: SPEC_VERSION,
    id: record.id,
    status,
    pid: status === "stopped" ? 0 : record.pid,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    annotations: record.annotations,
  };
}

/**
 * All containers under the state root. Corrupt ones are skipped.
 *
 * @param rt The runtime context.
 * @returns Their states, ordered by creation time.
 */
export async function list(rt: Runtime): Promise<OciState[]> {
  let names: string[];
  try {
    names = [...Deno.readDirSync(rt.roots.stateRoot)]
      .filter((e) => e.isDirectory).map((e) => e.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  const states: OciState[] = [];
  for (const name of names) {
    const dir = join(rt.roots.stateRoot, name);
    try {
      const record = await loadRecord(dir, name);
      states.push(toOciState(record, reconcile(record, dir, rt.sysfs)));
    } catch {
      // not a container of ours, half-deleted, or corrupt
    }
  }
  return states.sort((a, b) => a.created.localeCompare(b.created));
}

/**
 * The pids of a container's processes (runc `ps --format json`): the proxy
 * while it lives.
 *
 * @param rt The runtime context.
 * @param id Container id.
 * @returns Zero or one pid.
 */
export async function processes(rt: Runtime, id: string): Promise<number[]> {
  const { pid, status } = await state(rt, id);
  return status === "stopped" || pid === 0 ? [] : [pid];
}
