/**
 * The one module that touches sysfs (and debugfs and the firmware loader's
 * module parameter). Everything else asks it. Paths are resolved under a
 * sysroot so the simulator and tests can stand in for the kernel.
 *
 * Kernel ABI (drivers/remoteproc/remoteproc_sysfs.c): `state` reads one of
 * offline, suspended, running, crashed, deleted, attached, detached, invalid
 * and accepts start, stop, detach; `firmware` can only be written while
 * offline (-EBUSY otherwise); writes report the driver's errno.
 *
 * @module
 */
import { basename, join } from "../util/posix_path.ts";
import { DeviceError } from "../util/errors.ts";
import { hostPath } from "../container/paths.ts";

/**
 * A remote processor as sysfs describes it.
 *
 * @example A Cortex-M7 core of an i.MX8MP
 * ```ts
 * import type { Device } from "./sysfs.ts";
 *
 * const device: Device = {
 *   index: "remoteproc0",
 *   dir: "/sys/class/remoteproc/remoteproc0",
 *   name: "imx-rproc",
 *   driver: "imx-rproc",
 *   compatible: ["fsl,imx8mp-cm7"],
 * };
 * ```
 */
export interface Device {
  /** `remoteprocN`: stable only until the next probe order change. */
  readonly index: string;
  /** Absolute path of `/sys/class/remoteproc/remoteprocN` (under the sysroot). */
  readonly dir: string;
  /** The processor name (`name` attribute). */
  readonly name: string;
  /** Name of the bound platform driver, from `device/driver` or `device/../driver`. */
  readonly driver: string | undefined;
  /** Device tree compatibles of the device (or its cluster), most specific first. */
  readonly compatible: readonly string[];
}

/**
 * What reads and writes need to know of a processor.
 *
 * @example Enough of a device to read its state
 * ```ts
 * import type { DeviceRef } from "./sysfs.ts";
 *
 * const ref: DeviceRef = {
 *   index: "remoteproc0",
 *   dir: "/sys/class/remoteproc/remoteproc0",
 *   name: "m4",
 * };
 * ```
 */
export type DeviceRef = Pick<Device, "index" | "dir" | "name">;

/**
 * A value written to `state`.
 *
 * @example Start a simulated processor
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSysfs, type StateCommand } from "./sysfs.ts";
 * import { Simulator } from "../../sim/simulator.ts";
 * import { makeElf } from "../../fixtures/make_elf.ts";
 *
 * const tmp = Deno.makeTempDirSync();
 * const sim = await Simulator.create({ root: tmp, processors: [{ name: "m4" }] });
 * const sysfs = createSysfs({ sysroot: sim.root });
 * const device = sysfs.listDevices()[0]!;
 * Deno.writeFileSync(`${sysfs.firmwareDir()}/fw.elf`, makeElf());
 * sysfs.writeFirmware(device, "fw.elf");
 * const command: StateCommand = "start";
 * sysfs.writeState(device, command);
 * while (sysfs.readState(device) !== "running") {
 *   await new Promise((resolve) => setTimeout(resolve, 10));
 * }
 * assert.equal(sim.state(0), "running");
 * await sim.close();
 * Deno.removeSync(tmp, { recursive: true });
 * ```
 */
export type StateCommand = "start" | "stop" | "detach";

/** The kernel's state strings. `invalid` covers anything above the last. */
export const KERNEL_STATES = [
  "offline",
  "suspended",
  "running",
  "crashed",
  "deleted",
  "attached",
  "detached",
  "invalid",
] as const;

/** One of {@linkcode KERNEL_STATES}. */
export type KernelState = typeof KERNEL_STATES[number];

/**
 * Whether a string read from `state` is a kernel state. Anything else (an
 * empty read while a simulator rewrites the file) is transient.
 *
 * @param value The trimmed text of the attribute.
 * @returns True for a kernel state.
 */
export function isKernelState(value: string): value is KernelState {
  return (KERNEL_STATES as readonly string[]).includes(value);
}

/**
 * Access to the remoteproc class and related kernel interfaces.
 *
 * @example Read a simulated processor
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSysfs, type Sysfs } from "./sysfs.ts";
 * import { Simulator } from "../../sim/simulator.ts";
 *
 * const tmp = Deno.makeTempDirSync();
 * const sim = await Simulator.create({ root: tmp, processors: [{ name: "m4" }] });
 * const sysfs: Sysfs = createSysfs({ sysroot: sim.root });
 * const [device] = sysfs.listDevices();
 * assert.equal(device?.name, "m4");
 * assert.equal(sysfs.readState(device!), "offline");
 * assert.equal(sysfs.firmwareDir(), `${sim.root}/lib/firmware`);
 * await sim.close();
 * Deno.removeSync(tmp, { recursive: true });
 * ```
 */
export interface Sysfs {
  /** The sysroot all paths are resolved under. */
  readonly sysroot: string;
  /** All processors, ordered by index. */
  listDevices(): Device[];
  /**
   * Whether `/sys/class/remoteproc` exists: absent when the kernel has no
   * remoteproc support (`listDevices` then returns none).
   */
  hasClass(): boolean;
  /** Describes one processor by its index (`remoteproc3`). */
  device(index: string): Device | undefined;
  /** Reads `state`, trimmed. */
  readState(device: DeviceRef): string;
  /** Writes a command to `state`, turning the kernel's errno into a {@linkcode DeviceError}. */
  writeState(device: DeviceRef, command: StateCommand): void;
  /** Reads `firmware`, trimmed. */
  readFirmware(device: DeviceRef): string;
  /** Writes the firmware name (relative to the firmware search path). */
  writeFirmware(device: DeviceRef, name: string): void;
  /** Reads `recovery` (`enabled` / `disabled`), or undefined where absent. */
  readRecovery(device: DeviceRef): string | undefined;
  /** Writes `recovery` (`enabled`, `disabled`, `recover`). */
  writeRecovery(device: DeviceRef, value: string): void;
  /**
   * The directory the kernel looks in first: `firmware_class.path` when set
   * (taken as written, not re-rooted: it is the kernel's own setting), else
   * `/lib/firmware` under the sysroot.
   */
  firmwareDir(): string;
  /** debugfs trace buffer paths of a processor (`traceN`), which may be absent. */
  tracePaths(device: DeviceRef): string[];
  /** Opens `state` for repeated allocation-free polling. */
  openStateReader(device: DeviceRef): StateReader;
  /** Opens a debugfs trace buffer (a path from `tracePaths`) for polling. */
  openTraceReader(path: string): TraceReader;
}

/**
 * Reads a remoteproc trace buffer through one open descriptor. The kernel
 * returns the whole buffer up to its first NUL on each read from offset 0.
 *
 * @example Read what the firmware printed
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSysfs, type TraceReader } from "./sysfs.ts";
 * import { Simulator } from "../../sim/simulator.ts";
 *
 * const tmp = Deno.makeTempDirSync();
 * const sim = await Simulator.create({
 *   root: tmp,
 *   processors: [{ name: "m4", trace: true }],
 * });
 * const sysfs = createSysfs({ sysroot: sim.root });
 * const [path] = sysfs.tracePaths(sysfs.listDevices()[0]!);
 * sim.trace(0, "hello from m4\n");
 * const reader: TraceReader = sysfs.openTraceReader(path!);
 * assert.equal(new TextDecoder().decode(reader.read()), "hello from m4\n");
 * reader.close();
 * await sim.close();
 * Deno.removeSync(tmp, { recursive: true });
 * ```
 */
export interface TraceReader {
  /**
   * Reads the whole buffer into a reused array; the view is valid until the
   * next read. Throws when the file went away (the processor stopped).
   */
  read(): Uint8Array;
  /** Closes the descriptor. */
  close(): void;
}

/**
 * Polls `state` through one open descriptor.
 *
 * @example Poll a processor's state
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSysfs, type StateReader } from "./sysfs.ts";
 * import { Simulator } from "../../sim/simulator.ts";
 *
 * const tmp = Deno.makeTempDirSync();
 * const sim = await Simulator.create({ root: tmp, processors: [{ name: "m4" }] });
 * const sysfs = createSysfs({ sysroot: sim.root });
 * const reader: StateReader = sysfs.openStateReader(sysfs.listDevices()[0]!);
 * assert.equal(reader.read(), "offline");
 * assert.equal(reader.isRunning(), false);
 * reader.close();
 * await sim.close();
 * Deno.removeSync(tmp, { recursive: true });
 * ```
 */
export interface StateReader {
  /** Reads the state; `""` when the read was empty (transient). */
  read(): string;
  /** Whether the last read returned `running`, without allocating a string. */
  isRunning(): boolean;
  /** Closes the descriptor. */
  close(): void;
}

/**
 * Options of {@linkcode createSysfs}.
 *
 * @example Resolve sysfs under a simulator tree
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSysfs, type SysfsOptions } from "./sysfs.ts";
 *
 * const options: SysfsOptions = { sysroot: "/tmp/sim" };
 * assert.equal(createSysfs(options).sysroot, "/tmp/sim");
 * ```
 */
export interface SysfsOptions {
  /** Sysroot under which `/sys` and `/lib/firmware` are resolved. Default `/`. */
  sysroot?: string;
}

const RUNNING = new TextEncoder().encode("running");

/**
 * Creates the default {@linkcode Sysfs} on top of `Deno.*` file APIs.
 *
 * @example Listing the simulator's processors
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSysfs } from "./sysfs.ts";
 * import { Simulator } from "../../sim/simulator.ts";
 *
 * const tmp = Deno.makeTempDirSync();
 * const sim = await Simulator.create({
 *   root: tmp,
 *   processors: [{ name: "m4" }, { name: "dsp" }],
 * });
 * const sysfs = createSysfs({ sysroot: sim.root });
 * assert.deepEqual(sysfs.listDevices().map((d) => d.name), ["m4", "dsp"]);
 * await sim.close();
 * Deno.removeSync(tmp, { recursive: true });
 * ```
 *
 * @param options The sysroot.
 * @returns A sysfs accessor.
 */
export function createSysfs(options: SysfsOptions = {}): Sysfs {
  const sysroot = options.sysroot ?? "/";
  const classDir = hostPath(sysroot, "/sys/class/remoteproc");
  const debugDir = hostPath(sysroot, "/sys/kernel/debug/remoteproc");
  return {
    sysroot,
    listDevices: () => listDevices(classDir),
    hasClass() {
      try {
        return Deno.statSync(classDir).isDirectory;
      } catch {
        return false;
      }
    },
    device(index) {
      return /^remoteproc\d+$/.test(index)
        ? describeDevice(classDir, index)
        : undefined;
    },
    readState(device) {
      return readAttr(join(device.dir, "state")) ?? "";
    },
    writeState(device, command) {
      writeAttr(device, "state", command);
    },
    readFirmware(device) {
      return readAttr(join(device.dir, "firmware")) ?? "";
    },
    writeFirmware(device, name) {
      writeAttr(device, "firmware", name);
    },
    readRecovery(device) {
      return readAttr(join(device.dir, "recovery"));
    },
    writeRecovery(device, value) {
      writeAttr(device, "recovery", value);
    },
    firmwareDir: () => firmwareDir(sysroot),
    tracePaths: (device) => tracePaths(join(debugDir, device.index)),
    openStateReader,
    openTraceReader,
  };
}

/** The processors under the class directory, in index order. */
function listDevices(classDir: string): Device[] {
  let entries: string[];
  try {
    entries = [...Deno.readDirSync(classDir)].map((e) => e.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return entries
    .filter((e) => /^remoteproc\d+$/.test(e))
    .sort((a, b) => Number(a.slice(10)) - Number(b.slice(10)))
    .map((index) => describeDevice(classDir, index))
    .filter((d): d is Device => d !== undefined);
}

/** One processor's facts; undefined when it has no `name`. */
function describeDevice(classDir: string, index: string): Device | undefined {
  const dir = join(classDir, index);
  const name = readAttr(join(dir, "name"));
  if (name === undefined) return undefined;
  // Most drivers bind to the rproc's parent; TI K3 R5F and Xilinx R5 bind
  // to the cluster node above it.
  // `device/..` must be taken after resolving the link: path.join would
  // fold it lexically into the class directory.
  const parent = realPath(join(dir, "device"));
  const cluster = parent === undefined ? undefined : join(parent, "..");
  const driver = linkName(join(dir, "device", "driver")) ??
    (cluster === undefined ? undefined : linkName(join(cluster, "driver")));
  const compatible = readCompatible(join(dir, "device", "of_node")) ??
    (cluster === undefined
      ? undefined
      : readCompatible(join(cluster, "of_node"))) ??
    [];
  return { index, dir, name, driver, compatible };
}

/** The firmware loader's search directory (see {@linkcode Sysfs.firmwareDir}). */
function firmwareDir(sysroot: string): string {
  const param = hostPath(sysroot, "/sys/module/firmware_class/parameters/path");
  let value: string;
  try {
    value = Deno.readTextFileSync(param);
  } catch {
    value = "";
  }
  // param_get_string prints the value plus "\n"; a second newline means
  // the value itself ends with one, which kernels before 6.4 keep and then
  // never find a file there.
  if (value.endsWith("\n")) value = value.slice(0, -1);
  // A bare newline is what `echo > path` leaves (an empty write never
  // reaches the kernel): the loader finds nothing there and falls back to
  // the default directories, so it counts as unset.
  if (value.trim() === "") value = "";
  if (value.includes("\n")) {
    throw new DeviceError(
      "firmware_class.path contains a newline, so the kernel would not find firmware there: write it with echo -n",
    );
  }
  return value === "" ? hostPath(sysroot, "/lib/firmware") : value;
}

/** The `traceN` files in a processor's debugfs directory. */
function tracePaths(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)]
      .map((e) => e.name)
      .filter((n) => /^trace\d+$/.test(n))
      .sort()
      .map((n) => join(dir, n));
  } catch {
    return [];
  }
}

/** See {@linkcode Sysfs.openStateReader}. */
function openStateReader(device: DeviceRef): StateReader {
  const file = Deno.openSync(join(device.dir, "state"), { read: true });
  const buffer = new Uint8Array(32);
  let length = 0;
  const decoder = new TextDecoder();
  function fill(): void {
    file.seekSync(0, Deno.SeekMode.Start);
    length = file.readSync(buffer) ?? 0;
  }
  return {
    read() {
      fill();
      return decoder.decode(buffer.subarray(0, length)).trim();
    },
    isRunning() {
      fill();
      if (length < RUNNING.length) return false;
      for (let i = 0; i < RUNNING.length; i++) {
        if (buffer[i] !== RUNNING[i]) return false;
      }
      return length === RUNNING.length || buffer[RUNNING.length] === 0x0a;
    },
    close() {
      file.close();
    },
  };
}

/** See {@linkcode Sysfs.openTraceReader}. */
function openTraceReader(path: string): TraceReader {
  const file = Deno.openSync(path, { read: true });
  let buffer = new Uint8Array(4096);
  return {
    read() {
      file.seekSync(0, Deno.SeekMode.Start);
      let length = 0;
      for (;;) {
        if (length === buffer.length) {
          const bigger = new Uint8Array(buffer.length * 2);
          bigger.set(buffer);
          buffer = bigger;
        }
        const n = file.readSync(buffer.subarray(length));
        if (n === null || n === 0) break;
        length += n;
      }
      const nul = buffer.subarray(0, length).indexOf(0);
      return buffer.subarray(0, nul >= 0 ? nul : length);
    },
    close() {
      file.close();
    },
  };
}

/** Reads a sysfs attribute, trimmed; undefined when it does not exist. */
function readAttr(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path).trim();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

function writeAttr(device: DeviceRef, attr: string, value: string): void {
  try {
    Deno.writeTextFileSync(join(device.dir, attr), value, { create: false });
  } catch (error) {
    throw new DeviceError(
      `${label(device)}: cannot write "${value}" to ${attr}: ${
        errnoText(error)
      }`,
      { cause: error },
    );
  }
}

function realPath(path: string): string | undefined {
  try {
    return Deno.realPathSync(path);
  } catch {
    return undefined;
  }
}

function linkName(path: string): string | undefined {
  try {
    return basename(Deno.realPathSync(path));
  } catch {
    return undefined;
  }
}

function readCompatible(ofNode: string): string[] | undefined {
  try {
    const raw = Deno.readTextFileSync(join(ofNode, "compatible"));
    const list = raw.split("\0").map((s) => s.trim()).filter(Boolean);
    return list.length > 0 ? list : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The errno a simulator left for a `state` write it refused. Not part of
 * {@linkcode Sysfs}: a kernel fails write(2) itself and
 * {@linkcode Sysfs.writeState} throws, so on a board there is never one. A
 * simulator cannot fail a write to a regular file, so it leaves the errno
 * it would have returned (`ETIMEDOUT`) in a `.errno` file beside the
 * attributes.
 *
 * @param device The processor.
 * @returns The errno name, or undefined.
 */
export function simulatedRefusal(device: DeviceRef): string | undefined {
  return readAttr(join(device.dir, ".errno")) || undefined;
}

/**
 * Names a processor for messages: `remoteproc0 (m4)`.
 *
 * @param device The processor.
 * @returns A short label.
 */
export function label(device: Pick<Device, "index" | "name">): string {
  return `${device.index} (${device.name})`;
}

/**
 * The kernel's answer to a failed sysfs write, as `EBUSY (Device or resource
 * busy)`: the errno name is what remoteproc drivers and their docs speak of.
 * Failed file operations elsewhere read as runc's do (`osReason` in
 * core/util/errors.ts).
 *
 * @param error What the write threw.
 * @returns A short description.
 */
function errnoText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const text = error.message.replace(/\s*\(os error \d+\).*$/s, "")
      .replace(/:.*$/s, "");
    return typeof code === "string" && code !== "" ? `${code} (${text})` : text;
  }
  return String(error);
}
