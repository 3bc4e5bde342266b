/**
 * The context every operation takes: the roots, the sysfs accessor and the
 * plugin registry (given by the caller: the core never imports a plugin).
 *
 * @module
 */
import {
  defaultStateRoot,
  type Roots,
  stateRootProblem,
} from "./container/paths.ts";
import { createSysfs, type Sysfs } from "./device/sysfs.ts";
import { RuntimeError, StateError, UsageError } from "./util/errors.ts";
import type { PluginRegistry } from "./plugin/types.ts";
import { resolve } from "./util/posix_path.ts";

/**
 * Options of {@linkcode openRuntime}.
 *
 * @example A simulator sysroot with its own state root
 * ```ts
 * import assert from "node:assert/strict";
 * import { openRuntime, type RuntimeOptions } from "./runtime.ts";
 *
 * const options: RuntimeOptions = {
 *   sysroot: "/tmp/sim",
 *   stateRoot: "/tmp/state",
 * };
 * assert.equal(openRuntime(options).roots.stateRoot, "/tmp/state");
 * ```
 */
export interface RuntimeOptions {
  /** Sysroot (default `/`). */
  sysroot?: string | undefined;
  /** State root (default from {@linkcode defaultStateRoot}). */
  stateRoot?: string | undefined;
  /** Sysfs accessor to use instead of the default (tests). */
  sysfs?: Sysfs | undefined;
  /**
   * The plugins to choose from (`registry` of plugins/registry.ts). Only
   * `create`, `start` and `delete` need it; without one they fail.
   */
  plugins?: PluginRegistry | undefined;
}

/**
 * Roots plus sysfs: what every operation needs.
 *
 * @example Read the roots of a context
 * ```ts
 * import assert from "node:assert/strict";
 * import { openRuntime, type Runtime } from "./runtime.ts";
 *
 * const rt: Runtime = openRuntime({ sysroot: "/tmp/sim" });
 * assert.equal(rt.roots.sysroot, "/tmp/sim");
 * assert.equal(rt.sysfs.sysroot, "/tmp/sim");
 * ```
 */
export interface Runtime {
  /** The roots. */
  readonly roots: Roots;
  /** The one sysfs accessor. */
  readonly sysfs: Sysfs;
  /** The plugin registry. */
  readonly plugins: PluginRegistry;
}

/**
 * Builds the runtime context.
 *
 * @example Against a simulator tree
 * ```ts
 * import assert from "node:assert/strict";
 * import { openRuntime } from "./runtime.ts";
 *
 * const rt = openRuntime({ sysroot: "/tmp/sim" });
 * assert.equal(rt.roots.stateRoot, "/tmp/sim/run/remoteproc-runtime");
 * ```
 *
 * @param options Roots (all optional).
 * @returns The context.
 * @throws {UsageError} For an empty `--root`.
 * @throws {StateError} For a state root that is a file or lies below one.
 */
export function openRuntime(options: RuntimeOptions = {}): Runtime {
  const sysroot = resolve(options.sysroot || "/");
  if (options.stateRoot === "") throw new UsageError("--root is empty");
  const stateRoot = options.stateRoot !== undefined
    ? resolve(options.stateRoot)
    : defaultStateRoot({
      sysroot,
      uid: Deno.uid(),
      xdgRuntimeDir: Deno.env.get("XDG_RUNTIME_DIR"),
    });
  const problem = stateRootProblem(stateRoot);
  if (problem !== undefined) throw new StateError(problem);
  return {
    roots: { sysroot, stateRoot },
    sysfs: options.sysfs ?? createSysfs({ sysroot }),
    plugins: options.plugins ?? NO_PLUGINS,
  };
}

function noPlugins(): never {
  throw new RuntimeError("this runtime context was opened without plugins");
}

/** What a context opened without plugins has: a caller's mistake. */
const NO_PLUGINS: PluginRegistry = {
  select: noPlugins,
  byName: noPlugins,
  get fallback(): never {
    return noPlugins();
  },
};
