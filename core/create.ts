/**
 * `create`: validate the bundle, resolve and claim the processor, spawn the
 * proxy, record the container. On any failure everything done is undone.
 *
 * @module
 */
import { RESOLVED_PATH_ANNOTATION } from "./annotations.ts";
import { loadBundle, resolveFirmware } from "./bundle.ts";
import { checkpoint } from "./checkpoint.ts";
import { removeContainerDir } from "./container_dir.ts";
import { validateId } from "./container_id.ts";
import { claimDevice, releaseClaim, resolveDevice } from "./device.ts";
import {
  ConfigError,
  ContainerExistsError,
  DeviceError,
  RuntimeError,
} from "./errors.ts";
import { checkFirmwareFile } from "./firmware_check.ts";
import { createPlaceholder, podAnnotations } from "./sandbox.ts";
import { verifyFirmware } from "./integrity.ts";
import { acquireOpLock, PROXY_LOCK } from "./locks.ts";
import { join } from "./posix_path.ts";
import { debug } from "./log.ts";
import { absolute, containerDir } from "./paths.ts";
import { POLL_MS, proxyArgs } from "./proxy_protocol.ts";
import { type ContainerRecord, saveRecord } from "./record.ts";
import type { Runtime } from "./runtime.ts";
import {
  type SpawnedProxy,
  spawnProxy,
  waitProxyReady,
} from "./proxy_spawn.ts";
import {
  loadPlugins,
  selectPlugin,
  startPolicyOf,
  stopPolicyOf,
} from "../plugins/registry.ts";

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
  /** Where to write the proxy pid (no trailing newline). */
  pidFile?: string | undefined;
  /** Given by `-t`: refused, a processor has no terminal. */
  consoleSocket?: string | undefined;
  /**
   * Called once the bundle is read and the processor resolved (none for a
   * pod sandbox's placeholder), before anything is written: the CLI narrows
   * its Landlock confinement here.
   */
  onResolved?:
    | ((
      bundle: { dir: string; rootfs: string },
      device?: { index: string; dir: string },
    ) => void | Promise<void>)
    | undefined;
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
 * import { openRuntime } from "./runtime.ts";
 * import { start } from "./start.ts";
 * import { state } from "./state.ts";
 * import { Simulator } from "../sim/simulator.ts";
 * import { makeElf } from "../fixtures/make_elf.ts";
 *
 * const tmp = Deno.makeTempDirSync();
 * const sim = await Simulator.create({
 *   root: join(tmp, "sys"),
 *   processors: [{ name: "m4" }],
 * });
 * const rt = openRuntime({ sysroot: sim.root });
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
  const { id } = options;
  validateId(id);
  if (options.consoleSocket !== undefined) {
    throw new ConfigError(
      "a remote processor has no terminal: --console-socket is not supported (run without -t)",
    );
  }
  const bundle = await loadBundle(options.bundle ?? ".");
  if (bundle.placeholder) return await createPlaceholder(rt, options, bundle);
  const device = resolveDevice(rt.sysfs, {
    annotations: bundle.annotations,
    env: bundle.env,
    pod: await podAnnotations(rt, bundle.annotations),
  });
  const plugins = await loadPlugins(rt.roots.sysroot);
  const plugin = selectPlugin(device, bundle.annotations, plugins);
  const context = {
    device,
    sysfs: rt.sysfs,
    annotations: bundle.annotations,
  };
  const refusal = plugin.refuses?.("deploy", context);
  if (refusal) throw new DeviceError(refusal);
  const source = resolveFirmware(bundle);
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
  await options.onResolved?.(bundle, device);
  const pidFile = options.pidFile ? absolute(options.pidFile) : undefined;

  Deno.mkdirSync(rt.roots.stateRoot, { recursive: true, mode: 0o711 });
  const dir = containerDir(rt.roots, id);
  try {
    Deno.mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new ContainerExistsError(id);
    }
    throw error;
  }

  const lock = await acquireOpLock(dir, id);
  checkpoint("create.dir");
  let claimed = false;
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
    saveRecord(dir, record);
    checkpoint("create.record");
    claimDevice(rt.roots, device, { id, dir });
    claimed = true;
    checkpoint("create.claimed");
    proxy = spawnProxy({
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
    });
    record.pid = proxy.pid;
    if (!proxy.holdsLock) {
      // It takes its lock itself once Deno has started in it.
      saveRecord(dir, record);
      await waitProxyReady(dir, proxy);
    }
    // A proxy handed its lock lives as far as everyone can tell: no need to
    // wait for Deno to start in it (about 60 ms); `start` waits for that.
    debug(`create ${id}: proxy ${proxy.pid} spawned`);
    checkpoint("create.spawned");
    record.status = "created";
    saveRecord(dir, record);
    checkpoint("create.recorded");
    if (pidFile) {
      try {
        Deno.writeTextFileSync(pidFile, String(proxy.pid));
      } catch (error) {
        throw new RuntimeError(
          `cannot write pid file ${pidFile}: ${(error as Error).message}`,
        );
      }
    }
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
