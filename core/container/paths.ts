/**
 * Where things live. Every host path (`/sys/...`, `/lib/firmware`, `/run/...`,
 * `/etc/...`) is resolved under a sysroot, so that tests and the simulator
 * run against a temporary tree and never touch the real system.
 *
 * The state root has two namespaces, so that no container id can name
 * anything but a container:
 *
 * - `<stateRoot>/containers/<id>`: one directory per container (and the
 *   tombstones of removals, core/container/removal.ts);
 * - everything else is the runtime's own: with the default state root of
 *   root, `claims/` (the global processor claims).
 *
 * Earlier versions kept containers at `<stateRoot>/<id>`, next to `claims/`,
 * so the id `claims` named the claims directory. A container left in that
 * old layout is still found ({@linkcode containerDir},
 * {@linkcode containerDirs}) when its directory holds a `state.json` and is
 * none of the runtime's own directories; new containers never go there.
 *
 * @module
 */
import { isAbsolute, join, resolve } from "../util/posix_path.ts";
import { fileError } from "../util/errors.ts";
import { RECORD_FILE } from "./record.ts";

/**
 * The roots every operation takes.
 *
 * @example Roots of a test run
 * ```ts
 * import type { Roots } from "./paths.ts";
 *
 * const roots: Roots = {
 *   sysroot: "/tmp/sim",
 *   stateRoot: "/tmp/sim/run/remoteproc-runtime",
 * };
 * ```
 */
export interface Roots {
  /** Directory under which host paths are resolved; `/` on a real board. */
  sysroot: string;
  /** State directory: one subdirectory per container. */
  stateRoot: string;
}

/** Name of the directory used under `/run` for state and claims. */
export const RUNTIME_DIR_NAME = "remoteproc-runtime";

/**
 * Where vendor plugin profiles live (under the sysroot).
 *
 * @example Where profiles are read from under a sysroot
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostPath, PROFILES_DIR } from "./paths.ts";
 *
 * assert.equal(
 *   hostPath("/tmp/sim", PROFILES_DIR),
 *   "/tmp/sim/etc/remoteproc-runtime/plugins.d",
 * );
 * ```
 */
export const PROFILES_DIR = "/etc/remoteproc-runtime/plugins.d";

/**
 * Resolves an absolute host path under the sysroot.
 *
 * @example Resolving sysfs under a simulator's tree
 * ```ts
 * import { hostPath } from "./paths.ts";
 * hostPath("/tmp/sim", "/sys/class/remoteproc"); // "/tmp/sim/sys/class/remoteproc"
 * ```
 *
 * @param sysroot The sysroot (`/` for the real system).
 * @param path An absolute host path.
 * @returns The path as seen from this process.
 */
export function hostPath(sysroot: string, path: string): string {
  return sysroot === "/" ? path : join(sysroot, path);
}

/** Options of {@linkcode defaultStateRoot}. */
export interface StateRootOptions {
  /** The sysroot; with one other than `/`, state lives under it. */
  sysroot: string;
  /** The caller's uid. */
  uid: number | null;
  /** `$XDG_RUNTIME_DIR`, which podman sets to the empty string. */
  xdgRuntimeDir?: string | undefined;
}

/**
 * The state root used when `--root` is not given: `/run/remoteproc-runtime`
 * for root (under the sysroot when there is one), else
 * `$XDG_RUNTIME_DIR/remoteproc-runtime`, else `/tmp/remoteproc-runtime-<uid>`
 * when that variable is unset or empty.
 *
 * @example
 * ```ts
 * import { defaultStateRoot } from "./paths.ts";
 * defaultStateRoot({ sysroot: "/", uid: 0 }); // "/run/remoteproc-runtime"
 * ```
 *
 * @param options Sysroot, uid and environment.
 * @returns An absolute directory path.
 */
export function defaultStateRoot(options: StateRootOptions): string {
  const { sysroot, uid, xdgRuntimeDir } = options;
  if (uid === 0 || sysroot !== "/") {
    return hostPath(sysroot, `/run/${RUNTIME_DIR_NAME}`);
  }
  if (xdgRuntimeDir && isAbsolute(xdgRuntimeDir)) {
    return join(xdgRuntimeDir, RUNTIME_DIR_NAME);
  }
  return `/tmp/${RUNTIME_DIR_NAME}-${uid ?? "user"}`;
}

/**
 * The directory holding processor claims. It is global (not under the state
 * root) so that containers made by different engines with different `--root`
 * directories still cannot share a processor.
 *
 * @param roots The roots in use.
 * @returns The claims directory.
 */
export function claimsDir(roots: Roots): string {
  return hostPath(roots.sysroot, `/run/${RUNTIME_DIR_NAME}/claims`);
}

/** The directory under the state root that holds the containers. */
export const CONTAINERS_DIR_NAME = "containers";

/**
 * The directory holding one directory per container.
 *
 * @param roots The roots in use.
 * @returns `<stateRoot>/containers`.
 */
export function containersDir(roots: Roots): string {
  return join(roots.stateRoot, CONTAINERS_DIR_NAME);
}

/**
 * The state directory of one container: `<stateRoot>/containers/<id>`, or
 * the old layout's `<stateRoot>/<id>` while a container made by an earlier
 * version lives there (and none of that id in the new place).
 *
 * @example
 * ```ts
 * import { containerDir } from "./paths.ts";
 * containerDir({ sysroot: "/", stateRoot: "/tmp/no-such-root" }, "fw1");
 * // "/tmp/no-such-root/containers/fw1"
 * ```
 *
 * @param roots The roots in use.
 * @param id A validated container id.
 * @returns The directory, which need not exist.
 */
export function containerDir(roots: Roots, id: string): string {
  const dir = join(containersDir(roots), id);
  if (exists(dir)) return dir;
  const legacy = join(roots.stateRoot, id);
  return isLegacyContainer(roots, legacy) ? legacy : dir;
}

/**
 * Every container directory, by id: those in `<stateRoot>/containers`, then
 * those of the old layout (see {@linkcode containerDir}). Tombstones and
 * names that are not ids are left out.
 *
 * @param roots The roots in use.
 * @param isId Whether a directory name is a valid container id.
 * @returns Id to directory.
 * @throws {StateError} When the state root exists but cannot be read.
 */
export function containerDirs(
  roots: Roots,
  isId: (name: string) => boolean,
): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const name of directories(containersDir(roots))) {
    if (isId(name)) dirs.set(name, join(containersDir(roots), name));
  }
  for (const name of directories(roots.stateRoot)) {
    const legacy = join(roots.stateRoot, name);
    if (
      isId(name) && !dirs.has(name) && isLegacyContainer(roots, legacy)
    ) dirs.set(name, legacy);
  }
  return dirs;
}

/**
 * What makes a state root unusable, if anything: it may not exist yet, but
 * it must not be a file (`--root /dev/null`) nor lie below one. Other
 * problems (permissions, a read-only or full file system) are reported by
 * the verb that meets them.
 *
 * @example
 * ```ts
 * import { stateRootProblem } from "./paths.ts";
 * stateRootProblem("/dev/null"); // "state root /dev/null is not a directory"
 * stateRootProblem("/tmp/not-yet/state"); // undefined
 * ```
 *
 * @param stateRoot The absolute state root.
 * @returns A sentence naming what is wrong, or undefined when it is usable.
 */
export function stateRootProblem(stateRoot: string): string | undefined {
  let path = stateRoot;
  for (;;) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(path);
    } catch (error) {
      // NotADirectory: a component above is a file; look further up.
      const parent = join(path, "..");
      if (
        !(error instanceof Deno.errors.NotFound ||
          error instanceof Deno.errors.NotADirectory) || parent === path
      ) return undefined; // let the verb report what it meets
      path = parent;
      continue;
    }
    if (info.isDirectory) return undefined;
    return path === stateRoot
      ? `state root ${stateRoot} is not a directory`
      : `state root ${stateRoot} cannot be made: ${path} is not a directory`;
  }
}

function isLegacyContainer(roots: Roots, dir: string): boolean {
  if (dir === containersDir(roots) || dir === claimsDir(roots)) return false;
  try {
    return Deno.lstatSync(join(dir, RECORD_FILE)).isFile;
  } catch {
    return false; // absent, or a name too long to exist
  }
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function directories(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)]
      .filter((e) => e.isDirectory)
      .map((e) => e.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw fileError("read", dir, error);
  }
}

/**
 * Makes a path absolute against the current directory, as runc does for
 * `--pid-file`, `--bundle` and `--root`.
 *
 * @param path A path from the command line.
 * @returns The absolute path.
 */
export function absolute(path: string): string {
  return resolve(path);
}
