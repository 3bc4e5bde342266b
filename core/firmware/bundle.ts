/**
 * Reading a bundle: config.json (validated with zod), the rootfs, and the
 * firmware file named by `process.args[0]`, resolved inside the rootfs the
 * way runc's securejoin does: `..` stops at the rootfs root and absolute
 * symlinks are taken relative to it, so nothing in an image can point the
 * runtime at a host file.
 *
 * @module
 */
import { isAbsolute, join, normalize, resolve } from "../util/posix_path.ts";
import { ConfigError, osReason } from "../util/errors.ts";
import { fieldPath, oneLine } from "../util/message_text.ts";
import { isObject, isValidConfig, OCI_VERSION } from "./config_check.ts";
import { SANDBOX_MARKERS } from "../container/annotations.ts";
import { lazyImport } from "../util/lazy.ts";
import type { Config } from "./config_schema.ts";

/** Largest config.json accepted. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
const MAX_SYMLINKS = 40;

/** What `create` needs from a bundle. */
export interface Bundle {
  /** Absolute bundle directory. */
  dir: string;
  /** `ociVersion` of config.json. */
  ociVersion: string;
  /** Absolute rootfs directory. */
  rootfs: string;
  /** `process.args[0]` as written. */
  firmwareArg: string;
  /** `process.cwd`, `/` when absent. */
  cwd: string;
  /** Annotations (empty when absent). */
  annotations: Record<string, string>;
  /** `process.env` entries (`KEY=value`; empty when absent). */
  env: string[];
  /** A pod sandbox (core/ops/sandbox.ts): `process` was not read. */
  placeholder?: true;
}

/**
 * Loads and validates `<dir>/config.json`.
 *
 * @param dir The bundle directory.
 * @returns The parts of the bundle the runtime uses.
 * @throws {ConfigError} Naming the file and field at fault.
 */
export async function loadBundle(dir: string): Promise<Bundle> {
  const bundleDir = resolve(dir);
  const path = join(bundleDir, "config.json");
  let text: string;
  try {
    const info = Deno.statSync(path);
    if (!info.isFile) {
      throw new ConfigError(`cannot read config.json: ${path} is not a file`);
    }
    if (info.size > MAX_CONFIG_BYTES) {
      throw new ConfigError(
        `cannot read config.json: ${info.size} bytes is more than the limit of ${MAX_CONFIG_BYTES}`,
      );
    }
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if (error instanceof Deno.errors.NotFound) {
      throw new ConfigError(
        `cannot read config.json: no such file in bundle ${bundleDir}`,
      );
    }
    throw new ConfigError(
      `cannot read config.json: ${(error as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `cannot parse config.json: ${oneLine((error as Error).message)}`,
    );
  }
  if (isSandbox((raw as { annotations?: unknown } | null)?.annotations)) {
    return placeholderBundle(raw as Record<string, unknown>, bundleDir);
  }
  const config = isValidConfig(raw) ? raw : await explainConfig(raw);
  if (config.process.terminal === true) {
    throw new ConfigError(
      "a remote processor has no terminal: process.terminal must be false (run without -t)",
    );
  }
  const rootfs = isAbsolute(config.root.path)
    ? config.root.path
    : join(bundleDir, config.root.path);
  return {
    dir: bundleDir,
    ociVersion: config.ociVersion,
    rootfs: normalize(rootfs),
    firmwareArg: config.process.args[0]!,
    cwd: config.process.cwd ?? "/",
    annotations: config.annotations ?? {},
    env: envOf(config.process.env),
  };
}

/** The string entries of `process.env`, which the runtime only reads. */
function envOf(env: unknown): string[] {
  return Array.isArray(env)
    ? env.filter((e): e is string => typeof e === "string")
    : [];
}

/** Validates with zod (loaded only now) and throws its first issue. */
async function explainConfig(raw: unknown): Promise<Config> {
  const { configSchema } = await lazyImport<
    typeof import("./config_schema.ts")
  >("core/firmware/config_schema.ts");
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = fieldPath(issue.path);
    throw new ConfigError(
      `cannot parse config.json: ${field}: ${issue.message}`,
    );
  }
  return result.data;
}

/**
 * Resolves the firmware file inside the rootfs and checks it is a regular
 * file.
 *
 * @param bundle A loaded bundle.
 * @returns The host path of the firmware file.
 * @throws {ConfigError} When it escapes, loops, or is not a regular file.
 */
export function resolveFirmware(bundle: Bundle): string {
  const arg = bundle.firmwareArg;
  if (arg === "") {
    throw new ConfigError("process.args[0] is empty: name the firmware file");
  }
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(arg)) {
    throw new ConfigError(
      `process.args[0] contains a control character: ${JSON.stringify(arg)}`,
    );
  }
  let rootInfo: Deno.FileInfo;
  try {
    rootInfo = Deno.lstatSync(bundle.rootfs);
  } catch {
    throw new ConfigError(`root.path ${oneLine(bundle.rootfs)} does not exist`);
  }
  if (rootInfo.isSymlink) {
    throw new ConfigError(
      `root.path ${
        oneLine(bundle.rootfs)
      } is a symlink: give the directory itself`,
    );
  }
  if (!rootInfo.isDirectory) {
    throw new ConfigError(
      `root.path ${oneLine(bundle.rootfs)} is not a directory`,
    );
  }
  const inRoot = arg.startsWith("/") ? arg : join(bundle.cwd, arg);
  const host = secureJoin(bundle.rootfs, inRoot, arg);
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(host);
  } catch {
    throw new ConfigError(
      `firmware file ${JSON.stringify(arg)} does not exist in the rootfs`,
    );
  }
  if (!info.isFile) {
    const kind = info.isDirectory
      ? "a directory"
      : info.isFifo
      ? "a FIFO"
      : info.isCharDevice || info.isBlockDevice
      ? "a device node"
      : info.isSocket
      ? "a socket"
      : "not a regular file";
    throw new ConfigError(
      `firmware file ${JSON.stringify(arg)} is ${kind}, not a regular file`,
    );
  }
  return host;
}

/**
 * Joins `unsafe` to `root` following symlinks component by component, never
 * leaving `root`: `..` at the top stays at the top and absolute link
 * targets restart from `root`.
 *
 * @param root Host directory acting as `/`.
 * @param unsafe Path inside it.
 * @param label What to call the path in errors.
 * @returns A host path under `root` with no symlink left to follow.
 */
export function secureJoin(
  root: string,
  unsafe: string,
  label = unsafe,
): string {
  let pending = unsafe.split("/").filter((c) => c !== "" && c !== ".");
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "..") {
      done.pop();
      continue;
    }
    const candidate = join(root, ...done, part);
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(candidate);
    } catch {
      done.push(part);
      continue;
    }
    if (!info.isSymlink) {
      done.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) {
      throw new ConfigError(
        `firmware file ${
          JSON.stringify(label)
        }: too many levels of symbolic links`,
      );
    }
    let target: string;
    try {
      target = Deno.readLinkSync(candidate);
    } catch (error) {
      // Not a link any more (EINVAL) or gone: the rootfs is changing under
      // us. Say so, rather than resolve half of one tree and half another.
      throw new ConfigError(
        `firmware file ${JSON.stringify(label)}: /${
          oneLine([...done, part].join("/"))
        } changed while it was resolved (${osReason(error)})`,
      );
    }
    const rest = target.split("/").filter((c) => c !== "" && c !== ".");
    if (target.startsWith("/")) done.length = 0;
    pending = [...rest, ...pending];
  }
  return join(root, ...done);
}

/**
 * Whether annotations mark a pod's sandbox container: one of
 * {@linkcode SANDBOX_MARKERS} with exactly its value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSandbox } from "./bundle.ts";
 *
 * assert.ok(isSandbox({ "io.kubernetes.cri.container-type": "sandbox" }));
 * assert.ok(!isSandbox({ "io.kubernetes.cri.container-type": "container" }));
 * assert.ok(!isSandbox({ "io.kubernetes.cri.container-type": "Sandbox " }));
 * assert.ok(!isSandbox(undefined));
 * ```
 *
 * @param annotations A config's `annotations` (any value).
 * @returns True for a sandbox.
 */
export function isSandbox(annotations: unknown): boolean {
  if (!isObject(annotations)) return false;
  return Object.entries(SANDBOX_MARKERS).some(([key, value]) =>
    Object.hasOwn(annotations, key) && annotations[key] === value
  );
}

/**
 * The bundle of a sandbox's config.json: only `ociVersion`, `root.path` and
 * the annotations are read; `process` is ignored.
 *
 * @param raw The parsed config.json, marked by {@linkcode isSandbox}.
 * @param dir The absolute bundle directory.
 * @returns The bundle, with `placeholder` set.
 * @throws {ConfigError} When those fields are malformed.
 */
export function placeholderBundle(
  raw: Record<string, unknown>,
  dir: string,
): Bundle {
  const { ociVersion, root, annotations } = raw;
  if (typeof ociVersion !== "string" || !OCI_VERSION.test(ociVersion)) {
    throw new ConfigError(
      `unsupported ociVersion ${
        JSON.stringify(ociVersion)
      }: this runtime implements OCI runtime spec 1.x`,
    );
  }
  const path = isObject(root) ? root.path : undefined;
  if (typeof path !== "string" || path === "") {
    throw new ConfigError("cannot parse config.json: root.path: is required");
  }
  const values = annotations as Record<string, unknown>;
  if (Object.values(values).some((v) => typeof v !== "string")) {
    throw new ConfigError(
      "cannot parse config.json: annotations: values must be strings",
    );
  }
  return {
    dir,
    ociVersion,
    rootfs: path.startsWith("/") ? path : join(dir, path),
    firmwareArg: "",
    cwd: "/",
    annotations: values as Record<string, string>,
    env: [],
    placeholder: true,
  };
}
