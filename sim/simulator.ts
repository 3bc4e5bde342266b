/**
 * A remoteproc simulator. It builds a fake sysfs under a sysroot, laid out
 * as the kernel lays it out, and plays the kernel's part: it watches the
 * attribute files (inotify) and answers `start`, `stop`, `detach`, firmware
 * writes, debugfs `crash` writes and `recovery` writes as
 * drivers/remoteproc does, with faults on request.
 *
 * A regular file cannot fail a write, so where the kernel would return an
 * errno the simulator leaves the state as it was and records the error in
 * {@linkcode Simulator.errors}; where the kernel would accept a write that a
 * careful runtime never makes (start on a running core, firmware while not
 * offline) it records a protocol violation in
 * {@linkcode Simulator.violations}. Tests assert that list stays empty.
 *
 * @module
 */
import { dirname, join, relative } from "node:path";
import { makeSymlinks } from "./symlinks.ts";

/**
 * One simulated processor.
 *
 * @example An i.MX core the bootloader started
 * ```ts
 * import type { ProcessorSpec } from "./simulator.ts";
 *
 * const spec: ProcessorSpec = {
 *   name: "imx-rproc",
 *   driver: "imx-rproc",
 *   compatible: ["fsl,imx8mp-cm7"],
 *   bootState: "attached",
 *   trace: true,
 * };
 * ```
 */
export interface ProcessorSpec {
  /** The rproc `name` attribute. */
  name: string;
  /** Platform driver bound to the device (default `sim-rproc`). */
  driver?: string;
  /** Device tree compatibles (default `["sim,rproc"]`). */
  compatible?: string[];
  /** Platform device name (default `<n>.sim`). */
  deviceName?: string;
  /** Bind the driver to this cluster node above the device (TI R5F style). */
  cluster?: string;
  /** State at "probe": `offline` (default) or `attached` (booted by a bootloader). */
  bootState?: "offline" | "attached";
  /** Delay before a started core reads `running`. */
  startDelayMs?: number;
  /** Refuse start (the kernel would return this errno): every time, or the first `refuseStartTimes`. */
  refuseStart?: string;
  /** Refuse only the first N starts, then start (retry tests). */
  refuseStartTimes?: number;
  /** Refuse stop (the kernel would return this errno; the core keeps running): every time, or the first `refuseStopTimes`. */
  refuseStop?: string;
  /** Refuse only the first N stops, then stop (TI EBUSY handshake). */
  refuseStopTimes?: number;
  /**
   * Refuse stop only while the core reads `attached` (i.MX7ULP/8ULP give
   * EOPNOTSUPP, a TI R5F in IPC-only mode EINVAL); once started by the
   * runtime it stops normally.
   */
  refuseStopAttached?: string;
  /** Delay before a stopped core reads `offline` (STM32 shutdown handshake). */
  stopDelayMs?: number;
  /** Initial `recovery` (default `enabled`, as the kernel). */
  recovery?: "enabled" | "disabled";
  /** Create a debugfs trace buffer `trace0`. */
  trace?: boolean;
  /** Refuse `stop` on a crashed core, as kernels before 2026 do (-EINVAL). */
  crashedStopRefused?: boolean;
  /** Check firmware before running it (e.g. the kernel's ELF sanity check). */
  checkFirmware?: (bytes: Uint8Array) => string | undefined;
}

/**
 * Options of {@linkcode Simulator.create}.
 *
 * @example Two processors under a temporary sysroot
 * ```ts
 * import type { SimulatorOptions } from "./simulator.ts";
 *
 * const options: SimulatorOptions = {
 *   root: "/tmp/sim",
 *   processors: [{ name: "m4" }, { name: "dsp", startDelayMs: 50 }],
 * };
 * ```
 */
export interface SimulatorOptions {
  /**
   * The sysroot to build under: a new or empty directory, or one an earlier
   * simulator built (it holds {@linkcode SIMULATOR_MARK}).
   */
  root: string;
  /** The processors, in index order. */
  processors: ProcessorSpec[];
  /**
   * What to do with a tree an earlier simulator left under `root`. By
   * default it is reused: the tree is rebuilt in place for `processors`
   * (a processor at the same place with the same name keeps its state,
   * firmware name, recovery setting and trace buffer, so the runtime's
   * containers and proxies carry on), and everything else under the root
   * (the runtime's state, stored firmware, plugin profiles,
   * `firmware_class.path`) is kept. With `reset`, every processor still
   * running is first set `offline` (as at a power cut: the proxies watching
   * them exit) and the whole tree is removed.
   */
  reset?: boolean;
}

/**
 * The file that marks a directory as a simulator root. Reuse and reset
 * touch only a directory holding it: never a directory the simulator did
 * not build.
 */
export const SIMULATOR_MARK = ".remoteproc-simulator";

/**
 * A simulator that cannot be built: the root is not one the simulator may
 * use, or a processor is described wrongly. The message is one line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SimulatorError } from "./simulator.ts";
 *
 * const error = new SimulatorError("no processors");
 * assert.ok(error instanceof Error);
 * assert.equal(error.name, "SimulatorError");
 * ```
 */
export class SimulatorError extends Error {
  /**
   * @param message One line saying what is wrong and what to do.
   */
  constructor(message: string) {
    super(message);
    this.name = "SimulatorError";
  }
}

interface Processor {
  spec: ProcessorSpec;
  index: string;
  dir: string;
  debugDir: string;
  state: string;
  firmware: string;
  recovery: string;
  power: number;
  pending: string | undefined;
  generation: number;
  starts: number;
  stops: number;
}

/** A processor as {@linkcode Simulator.describe} shows it. */
export interface ProcessorSummary {
  /** `remoteprocN`. */
  index: string;
  /** The rproc `name`. */
  name: string;
  /** The kernel state now. */
  state: string;
  /** The bound platform driver. */
  driver: string;
  /** Device tree compatibles. */
  compatible: string[];
  /** `enabled`: the kernel restarts a crashed core. */
  recovery: string;
  /** Whether there is a debugfs trace buffer `trace0`. */
  trace: boolean;
}

const COMMANDS = new Set(["start", "stop", "detach"]);
/** Kernel states a reused processor keeps. */
const STATES = new Set([
  "offline",
  "running",
  "crashed",
  "attached",
  "detached",
]);
/** The state a pending command was written in (the runtime writes each only there). */
const BEFORE: Record<string, string> = {
  start: "offline",
  stop: "running",
  detach: "attached",
};
const DEFAULT_DRIVER = "sim-rproc";
const DEFAULT_COMPATIBLE = ["sim,rproc"];

/**
 * A running simulator. Close it when done.
 *
 * @example A processor that starts offline and can be crashed
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import { Simulator } from "./simulator.ts";
 * import { makeElf } from "../fixtures/make_elf.ts";
 *
 * const tmp = Deno.makeTempDirSync();
 * const sim = await Simulator.create({
 *   root: tmp,
 *   processors: [{ name: "m4", recovery: "disabled" }],
 * });
 * assert.equal(sim.state(0), "offline");
 * Deno.writeFileSync(join(sim.root, "lib/firmware/fw.elf"), makeElf());
 * Deno.writeTextFileSync(join(sim.classDir(0), "firmware"), "fw.elf");
 * Deno.writeTextFileSync(join(sim.classDir(0), "state"), "start");
 * while (sim.state(0) !== "running") {
 *   await new Promise((resolve) => setTimeout(resolve, 10));
 * }
 * sim.crash(0);
 * assert.equal(sim.state(0), "crashed");
 * assert.deepEqual(sim.violations, []);
 * await sim.close();
 * Deno.removeSync(tmp, { recursive: true });
 * ```
 */
export class Simulator {
  /** The sysroot. */
  readonly root: string;
  /** What the kernel would have refused with an errno, in order. */
  readonly errors: string[] = [];
  /** Writes a careful runtime never makes, in order. */
  readonly violations: string[] = [];
  /** Every transition, `remoteproc0: offline -> running`. */
  readonly events: string[] = [];
  #processors: Processor[];
  /** What a write to each watched file means: one lookup per event. */
  #handlers = new Map<string, () => void>();
  #watcher: Deno.FsWatcher | undefined;
  #loop: Promise<void> | undefined;
  #timers = new Set<ReturnType<typeof setTimeout>>();

  private constructor(root: string, processors: Processor[]) {
    this.root = root;
    this.#processors = processors;
    for (const p of processors) {
      const on = (path: string, handler: () => void) =>
        this.#handlers.set(path, handler);
      on(join(p.dir, "state"), () => this.#onState(p));
      on(join(p.dir, "firmware"), () => this.#onFirmware(p));
      for (
        const path of [join(p.dir, "recovery"), join(p.debugDir, "recovery")]
      ) {
        on(path, () => this.#onRecovery(p, path));
      }
      on(join(p.debugDir, "crash"), () => this.#onCrash(p));
    }
  }

  /**
   * Builds the tree and starts answering.
   *
   * @example Build a tree, point the runtime at it, close it
   * ```ts
   * import assert from "node:assert/strict";
   * import { Simulator } from "./simulator.ts";
   *
   * const tmp = Deno.makeTempDirSync();
   * const sim = await Simulator.create({ root: tmp, processors: [{ name: "m4" }] });
   * // ... run the runtime with --sysroot sim.root ...
   * assert.equal(sim.state(0), "offline");
   * await sim.close();
   * Deno.removeSync(tmp, { recursive: true });
   * ```
   *
   * @param options Root and processors.
   * @returns The simulator.
   */
  static async create(options: SimulatorOptions): Promise<Simulator> {
    if (options.processors.length === 0) {
      throw new SimulatorError("no processors to simulate");
    }
    Deno.mkdirSync(options.root, { recursive: true });
    const root = Deno.realPathSync(options.root);
    const mark = join(root, SIMULATOR_MARK);
    const entries = [...Deno.readDirSync(root)].map((e) => e.name);
    if (entries.length > 0 && !entries.includes(SIMULATOR_MARK)) {
      throw new SimulatorError(
        `${root} is neither empty nor a simulator root (it has no ${SIMULATOR_MARK}): choose a new or empty directory`,
      );
    }
    if (options.reset) resetTree(root, entries);
    Deno.writeTextFileSync(
      mark,
      "This directory is a remoteproc simulator root (sim/simulator.ts).\n",
    );
    const links: Array<[string, string]> = [];
    const processors = options.processors.map((spec, n) =>
      build(root, spec, n, links)
    );
    removeStale(root, processors);
    makeSymlinks(links.filter(([target, path]) => !linkReads(path, target)));
    Deno.mkdirSync(join(root, "lib/firmware"), { recursive: true });
    const params = join(root, "sys/module/firmware_class/parameters");
    Deno.mkdirSync(params, { recursive: true });
    if (!exists(join(params, "path"))) {
      Deno.writeTextFileSync(join(params, "path"), "\n");
    }
    const sim = new Simulator(root, processors);
    await sim.#start();
    for (const p of processors) {
      // A command written while no simulator answered is answered now.
      if (COMMANDS.has(read(join(p.dir, "state")))) sim.#onState(p);
      else if (p.state === "crashed" && p.recovery === "enabled") {
        sim.#after(20, () => sim.#recover(p));
      }
    }
    return sim;
  }

  /**
   * What each processor is, as the simulator's command line shows it at
   * start: index, name, state, driver, compatibles, recovery, trace buffer.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Simulator } from "./simulator.ts";
   *
   * const tmp = Deno.makeTempDirSync();
   * const sim = await Simulator.create({
   *   root: tmp,
   *   processors: [{ name: "m4", recovery: "disabled" }],
   * });
   * assert.deepEqual(sim.describe(), [{
   *   index: "remoteproc0",
   *   name: "m4",
   *   state: "offline",
   *   driver: "sim-rproc",
   *   compatible: ["sim,rproc"],
   *   recovery: "disabled",
   *   trace: false,
   * }]);
   * await sim.close();
   * Deno.removeSync(tmp, { recursive: true });
   * ```
   *
   * @returns One entry per processor, in index order.
   */
  describe(): ProcessorSummary[] {
    return this.#processors.map((p) => ({
      index: p.index,
      name: p.spec.name,
      state: p.state,
      driver: p.spec.driver ?? DEFAULT_DRIVER,
      compatible: p.spec.compatible ?? DEFAULT_COMPATIBLE,
      recovery: p.recovery,
      trace: p.spec.trace ?? false,
    }));
  }

  /** Path of `/sys/class/remoteproc/remoteprocN` of processor `n`. */
  classDir(n: number): string {
    return join(this.root, "sys/class/remoteproc", `remoteproc${n}`);
  }

  /** The current kernel state of processor `n`. */
  state(n: number): string {
    return this.#proc(n).state;
  }

  /** The firmware name processor `n` would load. */
  firmware(n: number): string {
    return this.#proc(n).firmware;
  }

  /** How many starts processor `n` has been asked for while running. */
  power(n: number): number {
    return this.#proc(n).power;
  }

  /**
   * Sets `firmware_class.path` as `echo -n DIR > .../path` would.
   *
   * @param dir Directory (absolute host path), or "" to clear.
   */
  setFirmwarePath(dir: string): void {
    Deno.writeTextFileSync(
      join(this.root, "sys/module/firmware_class/parameters/path"),
      `${dir}\n`,
    );
  }

  /**
   * Crashes processor `n` (as writing debugfs `crash` does). With recovery
   * enabled the core reboots: crashed -> offline -> running.
   *
   * @param n Processor number.
   */
  crash(
    n: number,
    options: { crashedMs?: number; reloadMs?: number } = {},
  ): void {
    const p = this.#proc(n);
    if (p.state !== "running") return;
    this.#set(p, "crashed");
    if (p.recovery === "enabled") {
      this.#after(
        options.crashedMs ?? 20,
        () => this.#recover(p, options.reloadMs ?? 0),
      );
    }
  }

  /**
   * Stops processor `n` behind the runtime's back (another tool wrote stop).
   *
   * @param n Processor number.
   */
  stopExternally(n: number): void {
    const p = this.#proc(n);
    p.power = 0;
    this.#set(p, "offline");
  }

  /**
   * Appends firmware output to processor `n`'s trace buffer.
   *
   * @param n Processor number.
   * @param text What the firmware prints.
   */
  trace(n: number, text: string): void {
    const p = this.#proc(n);
    Deno.writeTextFileSync(join(p.debugDir, "trace0"), text, { append: true });
  }

  /** Stops answering and waits for the watcher to end. */
  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#watcher?.close();
    await this.#loop;
  }

  #proc(n: number): Processor {
    const p = this.#processors[n];
    if (!p) throw new RangeError(`no simulated processor ${n}`);
    return p;
  }

  async #start(): Promise<void> {
    const watched = [
      join(this.root, "sys/devices"),
      join(this.root, "sys/kernel/debug/remoteproc"),
    ];
    this.#watcher = Deno.watchFs(watched, { recursive: true });
    this.#loop = (async () => {
      for await (const event of this.#watcher!) {
        if (event.kind !== "modify" && event.kind !== "create") continue;
        for (const path of event.paths) this.#onWrite(path);
      }
    })();
    await Promise.resolve();
  }

  #onWrite(path: string): void {
    this.#handlers.get(path)?.();
  }

  #onState(p: Processor): void {
    const text = read(join(p.dir, "state"));
    if (!COMMANDS.has(text) || p.pending === text) return;
    p.pending = text;
    const generation = ++p.generation;
    // A kernel answers a refused write with an errno from write(2); a file
    // cannot, so the errno goes to .errno (read by simulatedRefusal() in
    // core/device/sysfs.ts).
    write(join(p.dir, ".errno"), "");
    if (text === "start") {
      if (p.state === "running" || p.state === "attached") {
        // Linux >= 5.19 only bumps the power refcount; a later stop then
        // leaves the core running.
        p.power++;
        this.violations.push(`${p.index}: start written while ${p.state}`);
        return this.#settle(p, p.state);
      }
      if (p.state !== "offline") {
        return this.#refuse(p, `start while ${p.state}: EINVAL`, "EINVAL");
      }
      const boot = () => {
        if (generation !== p.generation) return;
        p.starts++;
        const refusal = this.#bootProblem(p, p.starts);
        if (refusal) {
          return this.#refuse(
            p,
            `start: ${refusal}`,
            refusal.split(":")[0]!,
            "offline",
          );
        }
        p.power = 1;
        this.#settle(p, "running");
      };
      if (p.spec.startDelayMs) this.#after(p.spec.startDelayMs, boot);
      else boot();
      return;
    }
    if (text === "stop") {
      const crashedOk = p.state === "crashed" && !p.spec.crashedStopRefused;
      if (p.state !== "running" && p.state !== "attached" && !crashedOk) {
        this.violations.push(`${p.index}: stop written while ${p.state}`);
        return this.#refuse(p, `stop while ${p.state}: EINVAL`, "EINVAL");
      }
      if (p.state === "attached" && p.spec.refuseStopAttached) {
        const code = p.spec.refuseStopAttached;
        return this.#refuse(p, `stop while attached: ${code}`, code);
      }
      p.stops++;
      if (
        p.spec.refuseStop &&
        (p.spec.refuseStopTimes === undefined ||
          p.stops <= p.spec.refuseStopTimes)
      ) {
        const code = p.spec.refuseStop;
        return this.#refuse(p, `stop: ${code}`, code);
      }
      p.power = Math.max(0, p.power - 1);
      const done = () => {
        if (generation !== p.generation) return;
        this.#settle(p, p.power > 0 ? p.state : "offline");
      };
      if (p.spec.stopDelayMs) this.#after(p.spec.stopDelayMs, done);
      else done();
      return;
    }
    // detach
    if (p.state !== "attached") {
      return this.#refuse(p, `detach while ${p.state}: EINVAL`, "EINVAL");
    }
    this.#settle(p, "detached");
  }

  #refuse(p: Processor, what: string, code: string, state = p.state): void {
    this.errors.push(`${p.index}: ${what}`);
    write(join(p.dir, ".errno"), code);
    this.#settle(p, state);
  }

  #bootProblem(p: Processor, attempt = 0): string | undefined {
    if (
      p.spec.refuseStart &&
      (p.spec.refuseStartTimes === undefined ||
        attempt <= p.spec.refuseStartTimes)
    ) return p.spec.refuseStart;
    const path = this.#findFirmware(p.firmware);
    if (!path) return `ENOENT: firmware ${p.firmware} not found`;
    const problem = p.spec.checkFirmware?.(Deno.readFileSync(path));
    return problem ? `EINVAL: ${problem}` : undefined;
  }

  #findFirmware(name: string): string | undefined {
    const param = Deno.readTextFileSync(
      join(this.root, "sys/module/firmware_class/parameters/path"),
    ).replace(/\n$/, "");
    const dirs = [param, join(this.root, "lib/firmware")].filter((d) =>
      d !== ""
    );
    for (const dir of dirs) {
      try {
        if (Deno.statSync(join(dir, name)).isFile) return join(dir, name);
      } catch {
        // try the next directory
      }
    }
    return undefined;
  }

  #onFirmware(p: Processor): void {
    const text = read(join(p.dir, "firmware"));
    if (text === p.firmware || text === "") return;
    if (p.state !== "offline") {
      this.errors.push(`${p.index}: firmware while ${p.state}: EBUSY`);
      this.violations.push(`${p.index}: firmware written while ${p.state}`);
      write(
        join(p.dir, "firmware"),
        p.state === "attached" ? "unknown" : p.firmware,
      );
      return;
    }
    p.firmware = text;
  }

  #onRecovery(p: Processor, path: string): void {
    const text = read(path);
    // A writer truncates before it writes: an empty read is that moment,
    // not a value (answering it would race the writer's own write).
    if (text === "") return;
    const before = p.recovery;
    if (text === "recover") {
      if (p.state === "crashed") this.#recover(p);
    } else if (text === "enabled" || text === "disabled") {
      p.recovery = text;
      if (text === "enabled" && p.state === "crashed") this.#recover(p);
    } else {
      this.errors.push(`${p.index}: recovery ${text}: EINVAL`);
    }
    // The written file then reads the setting, as sysfs would answer.
    if (text !== p.recovery) write(path, p.recovery);
    // The other file follows a change, unless a writer has changed it as
    // well: its own event comes next. (An event can be late, and a write
    // makes several: copying regardless would undo a newer write there.)
    const other = path === join(p.dir, "recovery")
      ? join(p.debugDir, "recovery")
      : join(p.dir, "recovery");
    if (p.recovery !== before && read(other) === before) {
      write(other, p.recovery);
    }
  }

  #onCrash(p: Processor): void {
    const text = read(join(p.debugDir, "crash"));
    if (text === "") return;
    write(join(p.debugDir, "crash"), "");
    this.crash(this.#processors.indexOf(p));
  }

  #recover(p: Processor, reloadMs = 0): void {
    if (p.state !== "crashed") return;
    // The kernel stops the core (offline) and boots it again from the same
    // file; reloadMs stands for the time that reload takes.
    this.#set(p, "offline");
    const boot = () => {
      if (p.state !== "offline") return;
      if (this.#bootProblem(p, Number.MAX_SAFE_INTEGER)) {
        return this.#set(p, "crashed");
      }
      this.#set(p, "running");
    };
    if (reloadMs > 0) this.#after(reloadMs, boot);
    else boot();
  }

  #settle(p: Processor, state: string): void {
    p.pending = undefined;
    this.#set(p, state, true);
  }

  #set(p: Processor, state: string, always = false): void {
    if (p.state !== state) {
      this.events.push(`${p.index}: ${p.state} -> ${state}`);
    }
    if (p.state === state && !always) return;
    p.state = state;
    write(join(p.dir, "state"), state);
    if (state === "attached") {
      p.firmware = "unknown";
      write(join(p.dir, "firmware"), "unknown");
    }
  }

  #after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }
}

function build(
  root: string,
  spec: ProcessorSpec,
  n: number,
  links: Array<[string, string]>,
): Processor {
  const index = `remoteproc${n}`;
  const deviceName = spec.deviceName ?? `${n}.sim`;
  const platform = join(root, "sys/devices/platform");
  const bindDir = spec.cluster
    ? join(platform, spec.cluster)
    : join(platform, deviceName);
  const deviceDir = spec.cluster ? join(bindDir, deviceName) : bindDir;
  const dir = join(deviceDir, "remoteproc", index);
  const debugDir = join(root, "sys/kernel/debug/remoteproc", index);
  // A processor an earlier simulator left at the same place under the same
  // name is the same processor: it keeps what it was doing.
  const kept = read(join(dir, "name")) === spec.name
    ? {
      state: read(join(dir, "state")),
      firmware: read(join(dir, "firmware")),
      recovery: read(join(dir, "recovery")),
    }
    : undefined;
  Deno.mkdirSync(dir, { recursive: true });
  const driver = spec.driver ?? DEFAULT_DRIVER;
  const driverDir = join(root, "sys/bus/platform/drivers", driver);
  Deno.mkdirSync(driverDir, { recursive: true });
  links.push([relative(bindDir, driverDir), join(bindDir, "driver")]);
  Deno.mkdirSync(join(bindDir, "of_node"), { recursive: true });
  Deno.writeTextFileSync(
    join(bindDir, "of_node/compatible"),
    (spec.compatible ?? DEFAULT_COMPATIBLE).map((c) => `${c}\0`).join(""),
  );
  links.push(["../..", join(dir, "device")]);
  const classDir = join(root, "sys/class/remoteproc");
  Deno.mkdirSync(classDir, { recursive: true });
  links.push([relative(classDir, dir), join(classDir, index)]);

  const bootState = spec.bootState ?? "offline";
  let state: string = bootState;
  let firmware = state === "attached" ? "unknown" : `rproc-${spec.name}-fw`;
  let recovery: string = spec.recovery ?? "enabled";
  if (kept) {
    state = STATES.has(kept.state)
      ? kept.state
      : BEFORE[kept.state] ?? bootState;
    if (kept.firmware !== "") firmware = kept.firmware;
    if (spec.recovery === undefined && /^(en|dis)abled$/.test(kept.recovery)) {
      recovery = kept.recovery;
    }
  }
  write(join(dir, "name"), spec.name);
  // A pending command stays in `state` for the simulator to answer.
  if (!kept || !COMMANDS.has(kept.state)) write(join(dir, "state"), state);
  write(join(dir, "firmware"), firmware);
  write(join(dir, "recovery"), recovery);
  write(join(dir, "coredump"), "disabled");
  if (exists(join(dir, ".errno"))) write(join(dir, ".errno"), "");

  Deno.mkdirSync(debugDir, { recursive: true });
  write(join(debugDir, "name"), spec.name);
  write(join(debugDir, "recovery"), recovery);
  write(join(debugDir, "crash"), "");
  const trace = join(debugDir, "trace0");
  if (spec.trace && !exists(trace)) Deno.writeTextFileSync(trace, "");
  if (!spec.trace && exists(trace)) Deno.removeSync(trace);
  return {
    spec,
    index,
    dir,
    debugDir,
    state,
    firmware,
    recovery,
    power: state === "running" || state === "attached" ? 1 : 0,
    pending: undefined,
    generation: 0,
    starts: 0,
    stops: 0,
  };
}

/**
 * Empties a simulator root: first every processor that still runs goes
 * `offline` (in place, so a proxy watching it through an open descriptor
 * sees it and exits), then everything under the root goes.
 */
function resetTree(root: string, entries: string[]): void {
  const classDir = join(root, "sys/class/remoteproc");
  let indices: string[] = [];
  try {
    indices = [...Deno.readDirSync(classDir)].map((e) => e.name);
  } catch {
    // no processors
  }
  for (const index of indices) {
    const state = join(classDir, index, "state");
    if (read(state) !== "" && read(state) !== "offline") {
      write(state, "offline");
    }
  }
  for (const name of entries) {
    Deno.removeSync(join(root, name), { recursive: true });
  }
}

/** Removes what an earlier simulator built that the processors now do not use. */
function removeStale(root: string, processors: Processor[]): void {
  const keep = new Set<string>();
  for (const p of processors) {
    for (let path = p.dir; path !== root; path = dirname(path)) keep.add(path);
  }
  const indices = new Set(processors.map((p) => p.index));
  const drivers = new Set(
    processors.map((p) => p.spec.driver ?? DEFAULT_DRIVER),
  );
  const prune = (dir: string, wanted: (name: string) => boolean) => {
    let names: string[] = [];
    try {
      names = [...Deno.readDirSync(dir)].map((e) => e.name);
    } catch {
      return;
    }
    for (const name of names) {
      if (!wanted(name)) Deno.removeSync(join(dir, name), { recursive: true });
    }
  };
  prune(join(root, "sys/class/remoteproc"), (name) => indices.has(name));
  prune(join(root, "sys/kernel/debug/remoteproc"), (name) => indices.has(name));
  prune(join(root, "sys/bus/platform/drivers"), (name) => drivers.has(name));
  prune(
    join(root, "sys/devices/platform"),
    (name) => keep.has(join(root, "sys/devices/platform", name)),
  );
  for (const p of processors) {
    // Devices no longer under a cluster node, processors no longer under
    // a device.
    const deviceDir = dirname(dirname(p.dir));
    const bindDir = p.spec.cluster ? dirname(deviceDir) : deviceDir;
    prune(
      bindDir,
      (name) =>
        keep.has(join(bindDir, name)) ||
        ["driver", "of_node", "remoteproc"].includes(name),
    );
    prune(join(deviceDir, "remoteproc"), (name) => indices.has(name));
  }
}

/** Whether `path` is a symlink that reads `target`. */
function linkReads(path: string, target: string): boolean {
  try {
    if (Deno.readLinkSync(path) === target) return true;
  } catch {
    // missing, or not a link
  }
  if (exists(path)) Deno.removeSync(path, { recursive: true });
  return false;
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function read(path: string): string {
  try {
    return Deno.readTextFileSync(path).trim();
  } catch {
    return "";
  }
}

/** Writes in place, as sysfs does: a reader holding the file sees it. */
function write(path: string, value: string): void {
  Deno.writeTextFileSync(path, value === "" ? "" : `${value}\n`);
}
