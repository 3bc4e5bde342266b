/**
 * Confinement plans: what each verb may touch (its {@linkcode Access}),
 * and confining the process to it with Landlock (core/os/landlock.ts). The
 * CLI's verb runner (cli/run.ts) confines each verb right after checking
 * its arguments; `create` narrows once more after it has read the bundle
 * and resolved the processor ({@linkcode createPlan}), and the proxy it
 * spawns inherits that.
 *
 * Writes are limited to the verb's own paths: the state root (container
 * directories and their tombstones), the global claims directory, the
 * claimed processor's sysfs directory, the firmware directory (`start`,
 * `delete`), the `--pid-file` and `--log` paths. Reads are limited to sysfs,
 * the state and claims directories, the bundle and rootfs (`create`,
 * `start`) and what Deno itself needs (its binary, the project's modules,
 * `DENO_DIR`); a verb that spawns (`create`) may also execute the Deno
 * binary and the system libraries.
 *
 * Confinement needs FFI (libc's `syscall`). It applies whenever FFI is
 * permitted: always on a board (`-A`) and in the narrow `sysroot` set, which
 * grants FFI for this and kill(2) (core/os/libc.ts is the only `Deno.dlopen`
 * caller, and a test checks that). Where Landlock is unavailable the verb
 * goes on unconfined after one warning.
 *
 * Gap (documented in SECURITY.md): below Landlock ABI 8 only the main
 * thread, and what it spawns afterwards, is confined. The runtime's file
 * I/O is all synchronous (main thread); Deno's async file calls would run on
 * pre-existing, unconfined threads, so none may be used after confinement.
 *
 * @module
 */
import {
  defaultReadPaths,
  type LandlockStatus,
  restrictSelf,
} from "./landlock.ts";
import {
  claimsDir,
  containerDir,
  hostPath,
  PROFILES_DIR,
  type Roots,
} from "../container/paths.ts";
import type { Runtime } from "../runtime.ts";
import { claimOf, makeClaimsDir } from "../device/claims.ts";
import { peekRecord } from "../container/record.ts";
import { type FileIdentity, rootfsProblem } from "../firmware/rootfs.ts";
import { makeStateDirs } from "../container/removal.ts";
import { proxyExecutables } from "../proxy/self.ts";

/** The env switch of the test-only write probe. */
export const WRITE_PROBE_ENV = "REMOTEPROC_RUNTIME_TEST_WRITE_PROBE";

/** The env switch of the test-only read probe. */
export const READ_PROBE_ENV = "REMOTEPROC_RUNTIME_TEST_READ_PROBE";

/** The paths one verb may use. */
export interface Plan {
  read: string[];
  readWrite: string[];
  write: string[];
  execute: string[];
  /** Directories among those whose rule must not follow a symlink (rootfs). */
  noFollow: string[];
}

/** Files given on the command line that the verb writes. */
export interface OutputFiles {
  /** `--log`. */
  log?: string | undefined;
  /** `--pid-file` (create). */
  pidFile?: string | undefined;
}

/**
 * What a verb may touch (each verb names its own in the CLI's verb table,
 * cli/verbs.ts): `read` only reads (`state`, `list`, `ps`); `signal` also
 * locks its container (`kill`); `deploy` writes its container, the claims,
 * its processor and the firmware directory (`start`); `remove` the same
 * with the whole state root (`delete`); `create` reads widely until
 * {@linkcode createPlan} narrows it.
 */
export type Access = "create" | "deploy" | "remove" | "signal" | "read";

/** What happened, for logging. */
export interface Confinement {
  /** Landlock's answer; undefined when FFI is not permitted. */
  status: LandlockStatus | undefined;
  /** Time spent, FFI load included, in ms. */
  ms: number;
}

const SYSTEM_LIBRARIES = ["/lib", "/lib64", "/usr/lib", "/usr/lib64"];

/**
 * The paths a verb needs, before it has read anything untrusted. For
 * `create` the reads are wide (the rootfs may be anywhere) until
 * {@linkcode createPlan} narrows them.
 *
 * @param rt The runtime context.
 * @param access What the verb may touch.
 * @param id The container id (verbs that take one; validated).
 * @param files `--log` and `--pid-file`.
 * @returns The plan.
 */
export function accessPlan(
  rt: Runtime,
  access: Access,
  id: string | undefined,
  files: OutputFiles,
): Plan {
  const { roots } = rt;
  const plan: Plan = {
    read: [...basicReads(roots)],
    readWrite: [],
    write: outputs(files),
    execute: [],
    noFollow: [],
  };
  const dir = id === undefined ? undefined : containerDir(roots, id);
  switch (access) {
    case "create":
      plan.read.push("/");
      plan.readWrite.push(
        roots.stateRoot,
        claimsDir(roots),
        ...rt.sysfs.listDevices().map((d) => d.dir),
      );
      plan.execute.push(...proxyExecutables(), ...SYSTEM_LIBRARIES);
      break;
    case "deploy":
    case "remove": {
      const peek = peekContainer(rt, dir!);
      plan.read.push(...peek.rootfs);
      plan.noFollow.push(...peek.rootfs);
      plan.readWrite.push(
        access === "deploy" ? dir! : roots.stateRoot,
        claimsDir(roots),
        ...peek.deviceDirs,
      );
      const firmware = firmwareDirOf(rt, access === "deploy");
      if (firmware !== undefined) plan.readWrite.push(firmware);
      break;
    }
    case "signal":
      plan.readWrite.push(dir!); // op.lock
      break;
    case "read":
      break;
  }
  return plan;
}

/**
 * The narrower plan `create` switches to once it knows the bundle and the
 * processor: the proxy it spawns keeps exactly this. It may also read the
 * state directory of the container that holds the processor now (possibly
 * under another `--root`), to see whether that one has stopped and its
 * claim can be taken over (core/container/takeover.ts).
 *
 * @param rt The runtime context.
 * @param bundle Bundle directory and rootfs.
 * @param deviceDir The claimed processor's sysfs directory (none for a pod
 * sandbox's placeholder).
 * @param files `--log` and `--pid-file`.
 * @returns The plan.
 */
export function createPlan(
  rt: Runtime,
  bundle: { dir: string; rootfs: string },
  deviceDir: string | undefined,
  files: OutputFiles,
): Plan {
  const index = deviceDir?.split("/").at(-1);
  const holder = index === undefined ? undefined : claimOf(rt.roots, index);
  return {
    read: [
      ...basicReads(rt.roots),
      bundle.dir,
      bundle.rootfs,
      ...(holder === undefined ? [] : [holder.dir]),
    ],
    readWrite: [
      rt.roots.stateRoot,
      claimsDir(rt.roots),
      ...(deviceDir === undefined ? [] : [deviceDir]),
    ],
    write: outputs(files),
    execute: [...proxyExecutables(), ...SYSTEM_LIBRARIES],
    noFollow: [bundle.rootfs],
  };
}

/**
 * Confines the process to a plan when FFI is permitted.
 *
 * @param plan The paths to allow.
 * @returns What happened.
 */
export function confine(plan: Plan): Confinement {
  const start = performance.now();
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return { status: undefined, ms: 0 };
  }
  const status = restrictSelf({
    read: unique(plan.read),
    readWrite: unique(plan.readWrite),
    write: unique(plan.write),
    execute: unique(plan.execute),
    noFollow: unique(plan.noFollow),
  });
  return { status, ms: performance.now() - start };
}

/**
 * Makes the state root, its `containers` directory and the claims directory
 * exist, so that rules can name them (Landlock rules attach to existing
 * files only).
 *
 * @param roots The roots.
 * @throws {StateError} Naming a directory that cannot be made.
 */
export function prepareDirs(roots: Roots): void {
  makeStateDirs(roots);
  makeClaimsDir(roots);
}

/**
 * Test-only: with `REMOTEPROC_RUNTIME_TEST_WRITE_PROBE=<path>[:<path>...]`
 * set, tries to create each file and reports on stderr
 * `remoteproc-runtime: test: write <path>: ok|EACCES|<error>`, removing what
 * it made. Does nothing otherwise.
 */
export function probeWrites(): void {
  const paths = Deno.env.get(WRITE_PROBE_ENV);
  if (!paths) return;
  for (const path of paths.split(":")) {
    let outcome = "ok";
    try {
      Deno.writeTextFileSync(path, "probe");
      Deno.removeSync(path);
    } catch (error) {
      outcome = (error as { code?: string }).code ??
        (error as Error).name;
    }
    Deno.stderr.writeSync(
      new TextEncoder().encode(
        `remoteproc-runtime: test: write ${path}: ${outcome}\n`,
      ),
    );
  }
}

/**
 * Test-only: with `REMOTEPROC_RUNTIME_TEST_READ_PROBE=<path>[:<path>...]`
 * set, tries to read each file and reports on stderr
 * `remoteproc-runtime: test: read <path>: ok|EACCES|<error>`. Does nothing
 * otherwise.
 */
export function probeReads(): void {
  const paths = Deno.env.get(READ_PROBE_ENV);
  if (!paths) return;
  for (const path of paths.split(":")) {
    let outcome = "ok";
    try {
      Deno.readFileSync(path);
    } catch (error) {
      outcome = (error as { code?: string }).code ??
        (error as Error).name;
    }
    Deno.stderr.writeSync(
      new TextEncoder().encode(
        `remoteproc-runtime: test: read ${path}: ${outcome}\n`,
      ),
    );
  }
}

/**
 * What every verb reads: Deno's own files, `/proc`, sysfs, plugin profiles,
 * the state root and claims.
 *
 * @param roots The roots.
 * @returns The paths.
 */
export function basicReads(roots: Roots): string[] {
  return [
    ...defaultReadPaths(),
    // Deno's stack-growth check (stacker) reads /proc/self/maps through
    // glibc's pthread_getattr_np and panics on EACCES. A rule on /proc/self
    // would bind to this pid only, not to the proxy's: allow /proc.
    "/proc",
    hostPath(roots.sysroot, "/sys"),
    // Plugin profiles (start and delete load the container's plugin).
    hostPath(roots.sysroot, PROFILES_DIR),
    roots.stateRoot,
    claimsDir(roots),
  ];
}

function outputs(files: OutputFiles): string[] {
  return [files.log, files.pidFile].filter((p): p is string => !!p);
}

/**
 * The container's processor and rootfs, from its record when it is readable
 * and from the claims naming its directory (a record may be corrupt: then
 * `delete --force` still needs the processor). Only `remoteprocN` indexes
 * are taken, and the directory comes from sysfs, never from the file.
 */
function peekContainer(
  rt: Runtime,
  dir: string,
): { deviceDirs: string[]; rootfs: string[] } {
  const indexes = new Set<string>();
  const rootfs: string[] = [];
  // A missing or corrupt record says nothing: the claims below tell.
  const record = peekRecord(dir);
  if (record.deviceIndex !== undefined) indexes.add(record.deviceIndex);
  // Only the directory create resolved: a rootfs since replaced by a link
  // (or another directory) gets no read rule.
  if (
    record.rootfs !== undefined &&
    rootfsProblem(record.rootfs, identityOf(record.rootfsIdentity)) ===
      undefined
  ) {
    rootfs.push(record.rootfs);
  }
  for (const device of rt.sysfs.listDevices()) {
    if (claimOf(rt.roots, device.index)?.dir === dir) indexes.add(device.index);
  }
  const deviceDirs = [...indexes]
    .map((index) => rt.sysfs.device(index)?.dir)
    .filter((d): d is string => d !== undefined);
  return { deviceDirs, rootfs };
}

function identityOf(value: unknown): FileIdentity | undefined {
  const { dev, ino } = (value ?? {}) as Record<string, unknown>;
  return typeof dev === "number" && typeof ino === "number"
    ? { dev, ino }
    : undefined;
}

function firmwareDirOf(rt: Runtime, make: boolean): string | undefined {
  try {
    const dir = rt.sysfs.firmwareDir();
    // A rule needs an existing directory; start would make it anyway.
    if (make) Deno.mkdirSync(dir, { recursive: true });
    return dir;
  } catch {
    return undefined; // the verb reports the problem itself
  }
}

function unique(paths: string[]): string[] {
  return [...new Set(paths)];
}
