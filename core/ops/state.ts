/**
 * `state`, `list` and `ps`: report the truth about containers without
 * changing anything.
 *
 * @module
 */
import { reconcile } from "../container/reconcile.ts";
import { type ContainerRecord, loadRecord } from "../container/record.ts";
import type { Runtime } from "../runtime.ts";
import type { Status } from "../container/status.ts";
import { withContainer } from "./open.ts";
import { SPEC_VERSION } from "../util/version.ts";
import { validateId } from "../container/ids.ts";
import { containerDirs } from "../container/paths.ts";

/**
 * The OCI state document, plus runc's `rootfs` and `created`.
 *
 * @example The state of a created container
 * ```ts
 * import type { OciState } from "./state.ts";
 *
 * const doc: OciState = {
 *   ociVersion: "1.2.0",
 *   id: "fw1",
 *   status: "created",
 *   pid: 4242,
 *   bundle: "/srv/bundles/fw1",
 *   rootfs: "/srv/bundles/fw1/rootfs",
 *   created: "2026-01-01T00:00:00.000Z",
 *   annotations: { "remoteproc.name": "m4" },
 * };
 * ```
 */
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
 * @example The state of an unknown id is runc's not-found error
 * ```ts
 * import assert from "node:assert/strict";
 * import { state } from "./state.ts";
 * import { ContainerNotFoundError } from "../util/errors.ts";
 * import { openRuntime } from "../runtime.ts";
 * import { Simulator } from "../../sim/simulator.ts";
 *
 * const tmp = Deno.makeTempDirSync();
 * const sim = await Simulator.create({ root: tmp, processors: [{ name: "m4" }] });
 * const rt = openRuntime({ sysroot: sim.root });
 *
 * await assert.rejects(state(rt, "missing"), {
 *   name: "ContainerNotFoundError",
 *   message: "container does not exist",
 * });
 * await assert.rejects(state(rt, "missing"), ContainerNotFoundError);
 *
 * await sim.close();
 * Deno.removeSync(tmp, { recursive: true });
 * ```
 *
 * @param rt The runtime context.
 * @param id Container id.
 * @returns The OCI state document.
 */
export function state(rt: Runtime, id: string): Promise<OciState> {
  return withContainer(
    rt,
    id,
    ({ record, status }) => toOciState(record, status),
    { lock: false },
  );
}

function isId(name: string): boolean {
  try {
    validateId(name);
    return true;
  } catch {
    return false; // a tombstone, or not ours
  }
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
 * @example No containers yet
 * ```ts
 * import assert from "node:assert/strict";
 * import { list } from "./state.ts";
 * import { openRuntime } from "../runtime.ts";
 * import { Simulator } from "../../sim/simulator.ts";
 *
 * const tmp = Deno.makeTempDirSync();
 * const sim = await Simulator.create({ root: tmp, processors: [{ name: "m4" }] });
 * const rt = openRuntime({ sysroot: sim.root });
 *
 * assert.deepEqual(await list(rt), []);
 *
 * await sim.close();
 * Deno.removeSync(tmp, { recursive: true });
 * ```
 *
 * @param rt The runtime context.
 * @returns Their states, ordered by creation time.
 */
export async function list(rt: Runtime): Promise<OciState[]> {
  const states: OciState[] = [];
  for (const [name, dir] of containerDirs(rt.roots, isId)) {
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
 * @example An unknown id has no processes to list
 * ```ts
 * import assert from "node:assert/strict";
 * import { processes } from "./state.ts";
 * import { ContainerNotFoundError } from "../util/errors.ts";
 * import { openRuntime } from "../runtime.ts";
 * import { Simulator } from "../../sim/simulator.ts";
 *
 * const tmp = Deno.makeTempDirSync();
 * const sim = await Simulator.create({ root: tmp, processors: [{ name: "m4" }] });
 * const rt = openRuntime({ sysroot: sim.root });
 *
 * await assert.rejects(processes(rt, "missing"), ContainerNotFoundError);
 *
 * await sim.close();
 * Deno.removeSync(tmp, { recursive: true });
 * ```
 *
 * @param rt The runtime context.
 * @param id Container id.
 * @returns Zero or one pid.
 */
export async function processes(rt: Runtime, id: string): Promise<number[]> {
  const { pid, status } = await state(rt, id);
  return status === "stopped" || pid === 0 ? [] : [pid];
}
