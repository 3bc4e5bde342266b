/**
 * Pod sandboxes. A CRI runtime (containerd, CRI-O) runs each pod's sandbox
 * ("pause") container through the same runtime handler as the pod's
 * containers. Here the sandbox becomes a placeholder: a container whose
 * process is a proxy that claims no processor, deploys nothing, ignores
 * `process.args` and any `remoteproc.*` annotation the pod carries, lives
 * until it is killed and exits as a stopped proxy does (TERM 143, INT 130,
 * KILL 137). It is recognised by the exact annotation values the CRI
 * runtimes set, never by anything else.
 *
 * The placeholder's record also keeps the pod's annotations, which processor
 * selection (core/device/selection.ts) consults to tell a container's own
 * `remoteproc.name` from the pod's.
 *
 * @module
 */
import { join } from "../util/posix_path.ts";
import { SANDBOX_ID_ANNOTATION } from "../container/annotations.ts";
import type { Bundle } from "../firmware/bundle.ts";
import { removeContainerDir } from "../container/removal.ts";
import { validateId } from "../container/ids.ts";
import { PROXY_LOCK } from "../container/locks.ts";
import { containerDir } from "../container/paths.ts";
import { placeholderArgs } from "../proxy/placeholder.ts";
import {
  type SpawnedProxy,
  spawnProxy,
  waitProxyReady,
} from "../proxy/spawn.ts";
import {
  type ContainerRecord,
  loadRecord,
  saveRecord,
} from "../container/record.ts";
import type { Runtime } from "../runtime.ts";
import {
  type CreateOptions,
  makeContainerDir,
  writePidFile,
} from "./create.ts";

/** The device fields of a placeholder's record: it has no processor. */
const NO_DEVICE = { index: "", name: "", dir: "" } as const;

/**
 * Whether a record is a pod sandbox's placeholder.
 *
 * @param record A container record.
 * @returns True for a placeholder.
 */
export function isPlaceholder(record: ContainerRecord): boolean {
  return record.placeholder === true;
}

/** A pod sandbox's placeholder that `create` has checked and not yet made. */
export interface PreparedPlaceholder {
  /** A placeholder. */
  placeholder: true;
  /** The options `create` was given. */
  options: CreateOptions;
  /** A bundle from {@linkcode placeholderBundle}. */
  bundle: Bundle;
  /** No processor. */
  device?: undefined;
}

/**
 * The second half of `create` for a sandbox: records the container and
 * spawns its placeholder proxy; no processor is resolved or claimed,
 * nothing is read from the rootfs. On failure everything done is undone.
 *
 * @param rt The runtime context.
 * @param prepared What `prepareCreate` read.
 * @returns The stored record.
 */
export async function commitPlaceholder(
  rt: Runtime,
  { options, bundle }: PreparedPlaceholder,
): Promise<ContainerRecord> {
  const { id } = options;
  const { dir, lock } = await makeContainerDir(rt, id);
  let proxy: SpawnedProxy | undefined;
  try {
    const record: ContainerRecord = {
      version: 1,
      ociVersion: bundle.ociVersion,
      id,
      status: "creating",
      pid: 0,
      bundle: bundle.dir,
      rootfs: bundle.rootfs,
      created: new Date().toISOString(),
      annotations: { ...bundle.annotations },
      device: { ...NO_DEVICE },
      plugin: "",
      firmware: { source: "" },
      placeholder: true,
    };
    saveRecord(dir, record);
    proxy = spawnProxy({
      args: placeholderArgs(dir),
      writable: [dir],
      lockPath: join(dir, PROXY_LOCK),
      passFds: options.preserveFds ?? 0,
    });
    record.pid = proxy.pid;
    if (!proxy.holdsLock) {
      saveRecord(dir, record);
      await waitProxyReady(dir, proxy);
    }
    record.status = "created";
    saveRecord(dir, record);
    writePidFile(options.pidFile, proxy.pid);
    return record;
  } catch (error) {
    proxy?.kill();
    removeContainerDir(dir);
    throw error;
  } finally {
    lock.close();
  }
}

/**
 * `start` for a placeholder (the caller holds the operation lock and has
 * checked it can start): it is running from now on. Its proxy has nothing
 * to do, so it is not told.
 *
 * @param dir The container's state directory.
 * @param record Its record.
 * @returns The updated record.
 */
export function startPlaceholder(
  dir: string,
  record: ContainerRecord,
): ContainerRecord {
  record.status = "running";
  saveRecord(dir, record);
  return record;
}

/**
 * The annotations of the pod a CRI container belongs to, from its sandbox's
 * placeholder record in the same state root (containerd names the sandbox
 * in {@linkcode SANDBOX_ID_ANNOTATION}).
 *
 * @param rt The runtime context.
 * @param annotations The container's annotations.
 * @returns The pod's annotations, or undefined when there is no such
 * placeholder here.
 */
export async function podAnnotations(
  rt: Runtime,
  annotations: Readonly<Record<string, string>>,
): Promise<Record<string, string> | undefined> {
  const sandbox = annotations[SANDBOX_ID_ANNOTATION];
  if (sandbox === undefined) return undefined;
  try {
    validateId(sandbox);
    const record = await loadRecord(containerDir(rt.roots, sandbox), sandbox);
    return isPlaceholder(record) ? record.annotations : undefined;
  } catch {
    return undefined; // not an id, not ours, gone, or unreadable
  }
}
