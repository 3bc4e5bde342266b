/**
 * `create`: validate the bundle, resolve and claim the processor, spawn the
 * proxy, record the container. On any failure everything done is undone.
 *
 * @module
 */
import { RESOLVED_PATH_ANNOTATION } from "../container/annotations.ts";
import {
  type Bundle,
  loadBundle,
  resolveFirmware,
} from "../firmware/bundle.ts";
import { pausePoint } from "../util/test_pause_points.ts";
import { makeStateDirs, removeContainerDir } from "../container/removal.ts";
import { validateNewId } from "../container/ids.ts";
import { claimDevice, releaseClaim, resolveDevice } from "../device/claims.ts";
import {
  ConfigError,
  ContainerExistsError,
  DeviceError,
  fileError,
  RuntimeError,
} from "../util/errors.ts";
import { type FileIdentity, rootfsIdentity } from "../firmware/rootfs.ts";
import { checkFirmwareFile } from "../firmware/check.ts";
import { verifyFirmware } from "../firmware/integrity.ts";
import { acquireOpLock, PROXY_LOCK } from "../container/locks.ts";
import { join } from "../util/posix_path.ts";
import { debug } from "../util/log.ts";
import { containerDir } from "../container/paths.ts";
import type { Device } from "../device/sysfs.ts";
import { POLL_MS, proxyArgs } from "../proxy/protocol.ts";
import { type ContainerRecord, saveRecord } from "../container/record.ts";
import type { Runtime } from "../runtime.ts";
import {
  checkPassedFds,
  type SpawnedProxy,
  spawnProxy,
  waitProxyReady,
} from "../proxy/spawn.ts";
import { type Plugin, startPolicyOf, stopPolicyOf } from "../plugin/types.ts";
import {
  commitPlaceholder,
  podAnnotations,
  type PreparedPlaceholder,
} from "./sandbox.ts";

/**
 * Options of {@linkcode create}.
 *
 * @example Options for a container with a pid file
 * ```ts
 * import type { CreateOptions } from "./create.ts";
 * import assert from "node:assert/strict";
 *
 * const options: CreateOptions = {
 *   id: "fw1",
 *   bundle: "/srv/bundles/fw1",
 *   pidFile: "/run/fw1.pid",
 * };
 * assert.equal(options.consoleSocket, undefined);
 * ```
 */
export interface CreateOptions {
  /** Container id. */
  id: string;
  /** Bundle directory (default: current directory). */
  bundle?: string | undefined;
  /**
   * Where to write the proxy pid (no trailing newline); a relative path is
   * taken from the current directory.
   */
  pidFile?: string | undefined;
  /** Given by `-t`: refused, a processor has no terminal. */
  consoleSocket?: string | undefined;
  /**
   * runc's `--preserve-fds`: how many descriptors after stdio (3, 4, ...)
   * the proxy gets (default 0). Each must have been passed to this process
   * (open, not close-on-exec). The proxy gets no other descriptor.
   */
  preserveFds?: number | undefined;
  /** Proxy poll interval in ms (default `POLL_MS`). */
  pollMs?: number | undefined;
}

/**
 * Creates a container.
 *
 * @example Create, start, stop and delete a container on a simulated processor
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import { create } from "./create.ts";
 * import { deleteContainer } from "./delete.ts";
 * import { kill } from "./kill.ts";
 * import { openRuntime } from "../runtime.ts";
 * import { start } from "./start.ts";
 * import { state } from "./state.ts";
 * import { Simulator } from "../../sim/simulator.ts";
 * import { makeElf } from "../../fixtures/make_elf.ts";
 * import { registry } from "../../plugins/registry.ts";
 *
 * const tmp = Deno.makeTempDirSync();
 * const sim = await Simulator.create({
 *   root: join(tmp, "sys"),
 *   processors: [{ name: "m4" }],
 * });
 * const rt = openRuntime({ sysroot: sim.root, plugins: registry });
 * const bundle = join(tmp, "bundle");
 * Deno.mkdirSync(join(bundle, "rootfs"), { recursive: true });
 * Deno.writeFileSync(join(bundle, "rootfs", "fw.elf"), makeElf());
 * Deno.writeTextFileSync(
 *   join(bundle, "config.json"),
 *   JSON.stringify({
 *     ociVersion: "1.0.2",
 *     process: { args: ["fw.elf"], cwd: "/" },
 *     root: { path: "rootfs" },
 *     annotations: { "remoteproc.name": "m4" },
 *   }),
 * );
 * try {
 *   const record = await create(rt, { id: "demo", bundle });
 *   assert.equal(record.device.name, "m4");
 *   assert.equal((await state(rt, "demo")).status, "created");
 *   await start(rt, "demo");
 *   assert.equal((await state(rt, "demo")).status, "running");
 *   await kill(rt, { id: "demo", signal: "TERM" });
 * } finally {
 *   await deleteContainer(rt, { id: "demo", force: true });
 *   await sim.close();
 *   Deno.removeSync(tmp, { recursive: true });
 * }
 * assert.deepEqual(sim.violations, []);
 * ```
 *
 * @param rt The runtime context.
 * @param options Id, bundle and pid file.
 * @returns The stored record.
 */
export async function create(
  rt: Runtime,
  options: CreateOptions,
): Promise<ContainerRecord> {
  return await commitCreate(rt, await prepareCreate(rt, options));
}

/**
 * A container `create` has checked and not yet made: one on a processor, or
 * a pod sandbox's placeholder (./sandbox.ts), which has none.
 */
export type PreparedCreate = PreparedProcessor | PreparedPlaceholder;

/** A container on a processor that `create` has checked and not yet made. */
export interface PreparedProcessor {
  /** Not a placeholder. */
  placeholder?: undefined;
  /** The options it was given. */
  options: CreateOptions;
  /** The bundle read. */
  bundle: Bundle;
  /** The processor resolved. */
  device: Device;
  /** Its plugin. */
  plugin: Plugin;
  /** The firmware file in the rootfs. */
  source: string;
  /** The rootfs directory's identity: `start` copies from it or refuses. */
  identity: FileIdentity;
  /** What the firmware check found, as annotations. */
  found: Record<string, string>;
}

/**
 * The first half of `create`: reads and checks everything (bundle,
 * processor, plugin, firmware) and writes nothing. The CLI narrows its
 * confinement to the bundle and the processor before the second half.
 *
 * @param rt The runtime context.
 * @param options Id, bundle and pid file.
 * @returns What {@linkcode commitCreate} makes.
 */
export async function prepareCreate(
  rt: Runtime,
  options: CreateOptions,
): Promise<PreparedCreate> {
  const { id } = options;
  validateNewId(id);
  if (options.consoleSocket !== undefined) {
    throw new ConfigError(
      "a remote processor has no terminal: --console-socket is not supported (run without -t)",
    );
  }
  checkPassedFds(options.preserveFds ?? 0);
  const bundle = await loadBundle(options.bundle ?? ".");
  if (bundle.placeholder) return { placeholder: true, options, bundle };
  const device = resolveDevice(rt.sysfs, {
    annotations: bundle.annotations,
    env: bundle.env,
    pod: await podAnnotations(rt, bundle.annotations),
  });
  const plugin = await rt.plugins.select(
    device,
    bundle.annotations,
    rt.roots.sysroot,
  );
  const context = {
    device,
    sysfs: rt.sysfs,
    annotations: bundle.annotations,
  };
  const refusal = plugin.refuses?.("deploy", context);
  if (refusal) throw new DeviceError(refusal);
  const source = resolveFirmware(bundle);
  // start copies the firmware out of this very directory, or refuses.
  const identity = rootfsIdentity(bundle.rootfs);
  await verifyFirmware(
    bundle.annotations,
    source,
    `firmware file ${JSON.stringify(bundle.firmwareArg)}`,
  );
  const found = checkFirmwareFile(
    source,
    bundle.firmwareArg,
    plugin,
    context,
  );
  debug(
    `create ${id}: ${device.index} (${device.name}) with plugin ${plugin.name}, firmware ${source}`,
  );
  return { options, bundle, device, plugin, source, identity, found };
}

/**
 * Makes a new container's state directory and takes its op lock, as the
 * first step of every `create` (firmware container or pod placeholder).
 *
 * @param rt The runtime context.
 * @param id The container id (validated).
 * @returns The directory and its held op lock.
 * @throws {ContainerExistsError} When the id is taken.
 */
export async function makeContainerDir(
  rt: Runtime,
  id: string,
): Promise<{ dir: string; lock: Awaited<ReturnType<typeof acquireOpLock>> }> {
  makeStateDirs(rt.roots);
  const dir = containerDir(rt.roots, id);
  try {
    Deno.mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new ContainerExistsError(id);
    }
    throw fileError("create directory", dir, error);
  }
  return { dir, lock: await acquireOpLock(dir, id) };
}

/**
 * The second half of `create`: makes the container directory, records the
 * container, claims the processor, spawns the proxy and writes the pid
 * file. On any failure everything done is undone.
 *
 * @param rt The runtime context.
 * @param prepared What {@linkcode prepareCreate} checked.
 * @returns The stored record.
 */
export async function commitCreate(
  rt: Runtime,
  prepared: PreparedCreate,
): Promise<ContainerRecord> {
  if (prepared.placeholder) return await commitPlaceholder(rt, prepared);
  const { options: { id }, device } = prepared;
  const { dir, lock } = await makeContainerDir(rt, id);
  pausePoint("create.dir");
  let claimed = false;
  let proxy: SpawnedProxy | undefined;
  try {
    const record = newRecord(prepared);
    saveRecord(dir, record);
    pausePoint("create.record");
    claimDevice(rt.roots, device, { id, dir });
    claimed = true;
    pausePoint("create.claimed");
    proxy = await startProxy(rt, dir, record, prepared);
    record.status = "created";
    saveRecord(dir, record);
    pausePoint("create.recorded");
    writePidFile(prepared.options.pidFile, proxy.pid);
    return record;
  } catch (error) {
    proxy?.kill();
    if (claimed) releaseClaim(rt.roots, device.index, { id, dir });
    removeContainerDir(dir);
    throw error;
  } finally {
    lock.close();
  }
}

/** The record of a container being created. */
function newRecord(
  { options, bundle, device, plugin, source, identity, found }:
    PreparedProcessor,
): ContainerRecord {
  return {
    version: 1,
    ociVersion: bundle.ociVersion,
    id: options.id,
    status: "creating",
    pid: 0,
    bundle: bundle.dir,
    rootfs: bundle.rootfs,
    rootfsIdentity: identity,
    created: new Date().toISOString(),
    annotations: {
      ...bundle.annotations,
      ...found,
      [RESOLVED_PATH_ANNOTATION]: device.dir,
    },
    device: { index: device.index, name: device.name, dir: device.dir },
    plugin: plugin.name,
    ...(plugin.stateAliases
      ? { stateAliases: { ...plugin.stateAliases } }
      : {}),
    firmware: { source },
  };
}

/** Spawns the proxy and records its pid. */
async function startProxy(
  rt: Runtime,
  dir: string,
  record: ContainerRecord,
  { options, device, plugin }: PreparedProcessor,
): Promise<SpawnedProxy> {
  const proxy = spawnProxy({
    args: proxyArgs({
      dir,
      sysroot: rt.roots.sysroot,
      device,
      pollMs: options.pollMs ?? POLL_MS,
      start: startPolicyOf(plugin, device),
      stop: stopPolicyOf(plugin, device),
      stateAliases: { ...plugin.stateAliases },
    }),
    writable: [rt.roots.sysroot, dir],
    lockPath: join(dir, PROXY_LOCK),
    passFds: options.preserveFds ?? 0,
  });
  record.pid = proxy.pid;
  try {
    if (!proxy.holdsLock) {
      // It takes its lock itself once Deno has started in it.
      saveRecord(dir, record);
      await waitProxyReady(dir, proxy);
    }
  } catch (error) {
    proxy.kill();
    throw error;
  }
  // A proxy handed its lock lives as far as everyone can tell: no need to
  // wait for Deno to start in it (about 60 ms); `start` waits for that.
  debug(`create ${options.id}: proxy ${proxy.pid} spawned`);
  pausePoint("create.spawned");
  return proxy;
}

/**
 * Writes the proxy pid to `--pid-file` (no trailing newline).
 *
 * @param pidFile The path, if given.
 * @param pid The proxy pid.
 * @throws {RuntimeError} When it cannot be written.
 */
export function writePidFile(pidFile: string | undefined, pid: number): void {
  if (!pidFile) return;
  try {
    Deno.writeTextFileSync(pidFile, String(pid));
  } catch (error) {
    throw new RuntimeError(
      `cannot write pid file ${pidFile}: ${(error as Error).message}`,
    );
  }
}
