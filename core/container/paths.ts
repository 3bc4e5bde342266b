/**
 * Where things live. Every host path (`/sys/...`, `/lib/firmware`, `/run/...`,
 * `/etc/...`) is resolved under a sysroot, so that tests and the simulator
 * run against a temporary tree and never touch the real system.
 *
 * @module
 */
import { isAbsolute, join, resolve } from "../util/posix_path.ts";

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

/**
 * The state directory of one container.
 *
 * @param roots The roots in use.
 * @param id A validated container id.
 * @returns `<stateRoot>/<id>`.
 */
export function containerDir(roots: Roots, id: string): string {
  return join(roots.stateRoot, id);
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
