/**
 * What the device plugin advertises: the remote processors grouped into
 * Kubernetes resources, one per processor kind, each processor a device
 * with its health. Read from sysfs and the runtime's claims on every poll,
 * so it must stay cheap: a directory listing and two small reads per
 * processor, plugin profiles loaded once.
 *
 * @module
 */
import { holder } from "../ops/processors.ts";
import type { Runtime } from "../runtime.ts";
import type { Device, StateReader } from "../device/sysfs.ts";
import type { Plugin } from "../plugin/types.ts";
import { hostPath } from "../container/paths.ts";

/** The domain of every resource name. */
export const RESOURCE_DOMAIN = "remoteproc.io";

/** A processor as a device of the Device Plugin API. */
export interface PluginDevice {
  /** `remoteprocN`: the device ID. */
  id: string;
  /** The processor's name. */
  name: string;
  /** Healthy or Unhealthy. */
  health: "Healthy" | "Unhealthy";
  /** Why it is unhealthy (for the log), or undefined. */
  reason?: string | undefined;
}

/** One resource: a processor kind. */
export interface PluginResource {
  /** `remoteproc.io/m4`. */
  name: string;
  /** Its processors, by index. */
  devices: PluginDevice[];
}

/**
 * The resource name a processor is advertised under: the matching plugin's
 * `resource` (a vendor profile's `"resource": "cortex-m4"`), else the
 * processor's name made a valid name part (letters, digits, `-`, `_`, `.`;
 * anything else becomes `-`; at most 63 characters).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resourceName } from "./inventory.ts";
 * assert.equal(resourceName("m4", undefined), "remoteproc.io/m4");
 * assert.equal(resourceName("imx rproc@0", undefined), "remoteproc.io/imx-rproc-0");
 * assert.equal(resourceName("m4", "cortex-m4"), "remoteproc.io/cortex-m4");
 * ```
 *
 * @param processorName The processor's `name` attribute.
 * @param pluginResource The plugin's `resource`, if it has one.
 * @returns The resource name.
 */
export function resourceName(
  processorName: string,
  pluginResource: string | undefined,
): string {
  const part = pluginResource ??
    processorName.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 63)
      .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
  return `${RESOURCE_DOMAIN}/${part || "processor"}`;
}

/**
 * A processor's health: Unhealthy when it reads crashed or unknown (or
 * cannot be read), or when it runs (`running`, `attached`) with no claim by
 * the runtime: something outside the runtime holds it.
 *
 * @param state The kernel's state, or undefined when unreadable.
 * @param held Whether a container of the runtime holds it.
 * @returns The health and why.
 */
export function healthOf(
  state: string | undefined,
  held: boolean,
): { health: "Healthy" | "Unhealthy"; reason?: string } {
  if (state === undefined) {
    return { health: "Unhealthy", reason: "its state cannot be read" };
  }
  if (state === "crashed" || state === "unknown") {
    return { health: "Unhealthy", reason: `it reads ${state}` };
  }
  if ((state === "running" || state === "attached") && !held) {
    return {
      health: "Unhealthy",
      reason: `it reads ${state} and no container of the runtime holds it`,
    };
  }
  return { health: "Healthy" };
}

/** A processor's facts that do not change while it exists. */
interface Known {
  device: Device;
  resource: string;
  /** Its `state`, kept open (one pread a poll); undefined until opened. */
  reader: StateReader | undefined;
}

/**
 * The resources on this board, read cheaply again and again: the devices'
 * facts (name, driver, compatibles, the matching plugin) are read once and
 * again only when the entries of `/sys/class/remoteproc` change; each read
 * then costs a directory listing, and per processor its `state` and its
 * claim.
 */
export class Inventory {
  #rt: Runtime;
  #pluginFor: (device: Device) => Plugin;
  #classDir: string;
  #listing: string | undefined;
  #known: Known[] = [];

  /**
   * @param rt The runtime context.
   * @param pluginFor The plugin matching a processor (from the plugins,
   * built-in and profiles, loaded once: plugins/registry.ts).
   */
  constructor(rt: Runtime, pluginFor: (device: Device) => Plugin) {
    this.#rt = rt;
    this.#pluginFor = pluginFor;
    this.#classDir = hostPath(rt.roots.sysroot, "/sys/class/remoteproc");
  }

  /**
   * The resources, sorted by name, each with its devices by index.
   *
   * @returns The resources; none when `/sys/class/remoteproc` is absent.
   */
  read(): PluginResource[] {
    const listing = this.#list();
    if (listing !== this.#listing) {
      this.#listing = listing;
      this.close();
      this.#known = this.#rt.sysfs.listDevices().map((device) => ({
        device,
        resource: resourceName(
          device.name,
          this.#pluginFor(device).resource,
        ),
        reader: undefined,
      }));
    }
    const byName = new Map<string, PluginDevice[]>();
    for (const known of this.#known) {
      const list = byName.get(known.resource) ?? [];
      list.push(this.#deviceOf(known));
      byName.set(known.resource, list);
    }
    return [...byName.keys()].sort().map((name) => ({
      name,
      devices: byName.get(name)!,
    }));
  }

  /** Closes the state files kept open. */
  close(): void {
    for (const known of this.#known) {
      known.reader?.close();
      known.reader = undefined;
    }
  }

  #deviceOf(known: Known): PluginDevice {
    const { device } = known;
    let state: string | undefined;
    try {
      known.reader ??= this.#rt.sysfs.openStateReader(device);
      state = known.reader.read() || undefined;
    } catch {
      known.reader?.close();
      known.reader = undefined;
    }
    // The claim matters only for a core that runs.
    const held = (state === "running" || state === "attached") &&
      holder(this.#rt, device.index) !== null;
    const { health, reason } = healthOf(state, held);
    return { id: device.index, name: device.name, health, reason };
  }

  #list(): string {
    try {
      return [...Deno.readDirSync(this.#classDir)].map((e) => e.name).sort()
        .join("/");
    } catch {
      return "";
    }
  }
}
