/**
 * The container record: what `create` and `start` store in
 * `<stateRoot>/containers/<id>/state.json`. Written atomically (temp file,
 * fsync, rename); read with a cheap structural check, and only when that
 * fails is the zod schema loaded to say exactly what is wrong (so `state` and
 * `kill` do not pay for zod on every call).
 *
 * @module
 */
import { join } from "../util/posix_path.ts";
import {
  ContainerNotFoundError,
  fileError,
  isNameTooLong,
  StateError,
} from "../util/errors.ts";
import type { Status } from "./status.ts";
import { lazyImport } from "../util/lazy.ts";

/**
 * The stored state of one container.
 *
 * @example The record of a created container
 * ```ts
 * import type { ContainerRecord } from "./record.ts";
 *
 * const record: ContainerRecord = {
 *   version: 1,
 *   ociVersion: "1.0.2",
 *   id: "fw1",
 *   status: "created",
 *   pid: 4242,
 *   bundle: "/srv/bundles/fw1",
 *   rootfs: "/srv/bundles/fw1/rootfs",
 *   created: "2026-01-01T00:00:00.000Z",
 *   annotations: { "remoteproc.name": "m4" },
 *   device: {
 *     index: "remoteproc0",
 *     name: "m4",
 *     dir: "/sys/class/remoteproc/remoteproc0",
 *   },
 *   plugin: "generic",
 *   firmware: { source: "/srv/bundles/fw1/rootfs/fw.elf" },
 * };
 * ```
 */
export interface ContainerRecord {
  /** Format version of this file. */
  version: 1;
  /** `ociVersion` of the bundle's config.json. */
  ociVersion: string;
  /** Container id. */
  id: string;
  /** Stored status; see `reconcile()` for the reported one. */
  status: Status;
  /** Proxy pid (the container's "process"); 0 before it exists. */
  pid: number;
  /** Absolute bundle path. */
  bundle: string;
  /** Absolute rootfs path. */
  rootfs: string;
  /**
   * The rootfs directory's device and inode at create: `start` refuses a
   * rootfs that is no longer that directory (absent in records made before
   * it was recorded).
   */
  rootfsIdentity?: { dev: number; ino: number };
  /** Creation time, ISO 8601. */
  created: string;
  /** Annotations of config.json plus those the runtime adds. */
  annotations: Record<string, string>;
  /** The claimed processor. */
  device: { index: string; name: string; dir: string };
  /** Name of the SoC plugin that handles the processor. */
  plugin: string;
  /** The plugin's state aliases (kernel state -> meaning), so `state` needs no plugin. */
  stateAliases?: Record<string, string>;
  /**
   * The firmware: `source` is the resolved file in the rootfs; `stored` and
   * `name` are set (before copying) once `start` deploys it.
   */
  firmware: { source: string; stored?: string; name?: string };
  /**
   * A pod sandbox's placeholder (core/ops/sandbox.ts): it claims no processor,
   * its `device` fields and `plugin` are empty and it has no firmware.
   */
  placeholder?: true;
}

/** The record's file in a container's state directory. */
const RECORD_FILE = "state.json";

/**
 * Whether a directory holds a record file (a regular file; its content is
 * not looked at).
 *
 * @param dir A directory.
 * @returns True when `state.json` is a regular file there.
 */
export function hasRecordFile(dir: string): boolean {
  try {
    return Deno.lstatSync(join(dir, RECORD_FILE)).isFile;
  } catch {
    return false; // absent, or a name too long to exist
  }
}

/**
 * What a record says about its processor and rootfs, read without any
 * check: it may be missing or corrupt (then nothing). For the confinement
 * plan of a verb that has not opened its container yet; nothing else may
 * trust it.
 *
 * @example A missing record says nothing
 * ```ts
 * import assert from "node:assert/strict";
 * import { peekRecord } from "./record.ts";
 *
 * assert.deepEqual(peekRecord("/nonexistent"), {});
 * ```
 *
 * @param dir The container's state directory.
 * @returns The device index, the absolute rootfs path and the rootfs
 * identity (unchecked), where present.
 */
export function peekRecord(
  dir: string,
): { deviceIndex?: string; rootfs?: string; rootfsIdentity?: unknown } {
  const out: {
    deviceIndex?: string;
    rootfs?: string;
    rootfsIdentity?: unknown;
  } = {};
  try {
    const value = JSON.parse(Deno.readTextFileSync(join(dir, RECORD_FILE)));
    if (typeof value?.device?.index === "string") {
      out.deviceIndex = value.device.index;
    }
    if (typeof value?.rootfs === "string" && value.rootfs.startsWith("/")) {
      out.rootfs = value.rootfs;
    }
    if (value?.rootfsIdentity !== undefined) {
      out.rootfsIdentity = value.rootfsIdentity;
    }
  } catch {
    // missing or corrupt
  }
  return out;
}

/**
 * Whether a parsed value has the shape of a {@linkcode ContainerRecord}.
 * Kept in step with the zod schema in `record_schema.ts` (a test checks both
 * agree on thousands of mutations).
 *
 * @param value A parsed JSON value.
 * @returns True when it is a usable record.
 */
export function isContainerRecord(value: unknown): value is ContainerRecord {
  if (!isObject(value)) return false;
  const v = value;
  return v.version === 1 && typeof v.ociVersion === "string" &&
    typeof v.id === "string" && v.id !== "" &&
    (v.status === "creating" || v.status === "created" ||
      v.status === "running" || v.status === "stopped") &&
    Number.isSafeInteger(v.pid) && (v.pid as number) >= 0 &&
    typeof v.bundle === "string" && typeof v.rootfs === "string" &&
    (v.rootfsIdentity === undefined || isIdentity(v.rootfsIdentity)) &&
    typeof v.created === "string" && isStringMap(v.annotations) &&
    isObject(v.device) && typeof v.device.index === "string" &&
    typeof v.device.name === "string" && typeof v.device.dir === "string" &&
    typeof v.plugin === "string" &&
    (v.stateAliases === undefined || isStringMap(v.stateAliases)) &&
    isObject(v.firmware) &&
    typeof v.firmware.source === "string" &&
    optionalString(v.firmware.stored) && optionalString(v.firmware.name) &&
    (v.placeholder === undefined || v.placeholder === true);
}

function isIdentity(value: unknown): boolean {
  return isObject(value) && Number.isSafeInteger(value.dev) &&
    (value.dev as number) >= 0 && Number.isSafeInteger(value.ino) &&
    (value.ino as number) >= 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringMap(value: unknown): boolean {
  return isObject(value) &&
    Object.values(value).every((v) => typeof v === "string");
}

function optionalString(value: unknown): boolean {
  return value === undefined || typeof value === "string";
}

/**
 * Reads a container's record.
 *
 * @param dir The container's state directory.
 * @param id The container id, for messages.
 * @returns The record.
 * @throws {ContainerNotFoundError} When there is no such container.
 * @throws {StateError} When the file is corrupt.
 */
export async function loadRecord(
  dir: string,
  id: string,
): Promise<ContainerRecord> {
  let text: string;
  try {
    text = Deno.readTextFileSync(join(dir, RECORD_FILE));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || isNameTooLong(error)) {
      throw new ContainerNotFoundError(id);
    }
    throw new StateError(
      `cannot read state of container ${id}: ${(error as Error).message}`,
    );
  }
  return await parseRecord(text, id);
}

/**
 * Parses and checks the text of a state file.
 *
 * @param text File contents.
 * @param id The container id, for messages.
 * @returns The record.
 * @throws {StateError} When the text is not a valid record.
 */
export async function parseRecord(
  text: string,
  id: string,
): Promise<ContainerRecord> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new StateError(
      `state of container ${id} is corrupt: not valid JSON (delete --force cleans up)`,
    );
  }
  if (isContainerRecord(value)) return value;
  const { describeRecordProblem } = await lazyImport<
    typeof import("./record_schema.ts")
  >("core/container/record_schema.ts");
  throw new StateError(
    `state of container ${id} is corrupt: ${
      describeRecordProblem(value)
    } (delete --force cleans up)`,
  );
}

/**
 * Writes a record atomically: a temp file in the same directory, fsync,
 * rename over `state.json`.
 *
 * @param dir The container's state directory.
 * @param record The record to store.
 * @throws {StateError} Naming `state.json` and the cause (a full or
 * read-only file system); the temp file is gone and the old record intact.
 */
export function saveRecord(dir: string, record: ContainerRecord): void {
  const path = join(dir, RECORD_FILE);
  const tmp = join(dir, `.${RECORD_FILE}.${crypto.randomUUID()}`);
  const data = new TextEncoder().encode(JSON.stringify(record, null, 2));
  try {
    const file = Deno.openSync(tmp, {
      write: true,
      createNew: true,
      mode: 0o600,
    });
    try {
      let written = 0;
      while (written < data.length) {
        written += file.writeSync(data.subarray(written));
      }
      file.syncSync();
    } finally {
      file.close();
    }
    Deno.renameSync(tmp, path);
  } catch (error) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // never made
    }
    throw fileError("write", path, error);
  }
}
