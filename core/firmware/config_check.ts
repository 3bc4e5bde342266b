/**
 * A cheap structural check of config.json that accepts exactly what the zod
 * schema in `config_schema.ts` accepts for the fields the runtime reads.
 * `create` runs it first and loads zod (about 30 ms of start-up) only when
 * it fails, to say precisely what is wrong. A test checks both agree.
 *
 * @module
 */
import type { Config } from "./config_schema.ts";

/** The `ociVersion` values this runtime implements: OCI runtime spec 1.x. */
export const OCI_VERSION = /^1\.\d+\.\d+(?:[-+].*)?$/;

/**
 * Whether a parsed config.json is valid for this runtime.
 *
 * @param value A parsed JSON value.
 * @returns True when `configSchema.safeParse(value)` would succeed.
 */
export function isValidConfig(value: unknown): value is Config {
  if (!isObject(value)) return false;
  const { ociVersion, process, root, annotations } = value;
  return typeof ociVersion === "string" && OCI_VERSION.test(ociVersion) &&
    isObject(process) && optional(process.terminal, "boolean") &&
    optional(process.cwd, "string") && Array.isArray(process.args) &&
    process.args.length === 1 && typeof process.args[0] === "string" &&
    isObject(root) && typeof root.path === "string" && root.path !== "" &&
    optional(root.readonly, "boolean") &&
    (annotations === undefined ||
      (isObject(annotations) &&
        Object.values(annotations).every((v) => typeof v === "string")));
}

/** Whether a JSON value is an object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optional(value: unknown, type: "boolean" | "string"): boolean {
  return value === undefined || typeof value === type;
}
