/**
 * The context every operation takes: the roots and the sysfs accessor.
 *
 * @module
 */
import { defaultStateRoot, type Roots } from "./paths.ts";
import { createSysfs, type Sysfs } from "./sysfs.ts";
import { UsageError } from "./errors.ts";
import { resolve } from "node:path";

/** Options of {@linkcode openRuntime}. */
export interface RuntimeOptions {
  /** Sysroot (default `/`). */
  sysroot?: string | undefined;
  /** State root (default from {@linkcode defaultStateRoot}). */
  stateRoot?: string | undefined;
  /** Sysfs accessor to use instead of the default (tests). */
  sysfs?: Sysfs | undefined;
}

/** Roots plus sysfs: what every operation needs. */
export interface Runtime {
  /** The roots. */
  readonly roots: Roots;
  /** The one sysfs accessor. */
  readonly sysfs: Sysfs;
}

/**
 * Builds the runtime context.
 *
 * @example Against a simulator tree
 * ```ts ignore
 * import { openRuntime } from "./runtime.ts";
 * const rt = openRuntime({ sysroot: "/tmp/sim" });
 * ```
 *
 * @param options Roots (all optional).
 * @returns The context.
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
  return {
    roots: { sysroot, stateRoot },
    sysfs: options.sysfs ?? createSysfs({ sysroot }),
  };
}
