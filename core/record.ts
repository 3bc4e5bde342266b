/**
 * The container record: what `create` and `start` store in
 * `<stateRoot>/<id>/state.json`. Written atomically (temp file, fsync,
 * rename); read with a cheap structural check, and only when that fails is
 * the zod schema loaded to say exactly what is wrong (so `state` and `kill`
 * do not pay for zod on every call).
 *
 * @module
 */
import { join } from "./posix_path.ts";
import { ContainerNotFoundError, StateError } from "./errors.ts";
import type { Status } from "./status.ts";
import { lazyImport } from "./lazy.ts";

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
   * A pod sandbox's placeholder (core/sandbox.ts): it claims no processor,
   * its `device` fields and `plugin` are empty and it has no firmware.
   */
  placeholder?: true;
}

const STATE_FILE = "state.json";

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
    text = Deno.readTextFileSync(join(dir, STATE_FILE));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
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
  >("core/record_schema.ts");
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
 */
export function saveRecord(dir: string, record: ContainerRecord): void {
  const tmp = join(dir, `.${STATE_FILE}.${crypto.randomUUID()}`);
  const data = new TextEncoder().encode(JSON.stringify(record, null, 2));
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
  try {
    Deno.renameSync(tmp, join(dir, STATE_FILE));
  } catch (error) {
    Deno.removeSync(tmp);
    throw error;
  }
}
