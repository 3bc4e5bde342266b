/**
 * Firmware naming and placement: the name a stored copy gets, from a
 * plugin's {@linkcode FirmwarePlacement} (subdirectory of the firmware
 * directory plus a name template), checked so that it is always a plain
 * relative path the kernel accepts.
 *
 * @module
 */
import { basename, extname } from "../util/posix_path.ts";
import { ConfigError } from "../util/errors.ts";
import type { DeviceRef } from "../device/sysfs.ts";
import type { FirmwarePlacement } from "../plugin/types.ts";

/** The template used when a plugin gives none. */
export const DEFAULT_TEMPLATE = "{stem}-{stamp}-{rand}{ext}";

const VARIABLES = new Set(["stem", "ext", "stamp", "rand", "device", "index"]);

/**
 * Checks a placement: a relative directory of safe components and a
 * template that uses only known variables and includes `{rand}`.
 *
 * @param placement The placement.
 * @returns A problem, or undefined when it is fine.
 */
export function placementProblem(
  placement: FirmwarePlacement,
): string | undefined {
  const { directory, template } = placement;
  if (directory !== undefined && directory !== "") {
    const parts = directory.split("/");
    if (
      directory.startsWith("/") ||
      parts.some((p) =>
        p === "" || p === "." || p === ".." ||
        !/^[A-Za-z0-9._-]+$/.test(p)
      )
    ) {
      return `firmware directory ${
        JSON.stringify(directory)
      } must be a relative path of [A-Za-z0-9._-] components without . or ..`;
    }
  }
  if (template !== undefined) {
    for (const match of template.matchAll(/\{([^}]*)\}/g)) {
      if (!VARIABLES.has(match[1]!)) {
        return `firmware name template ${
          JSON.stringify(template)
        } uses an unknown variable {${match[1]}} (known: ${
          [...VARIABLES].map((v) => `{${v}}`).join(", ")
        })`;
      }
    }
    if (!template.includes("{rand}")) {
      return `firmware name template ${
        JSON.stringify(template)
      } must contain {rand}: stored names must be unique`;
    }
  }
  return undefined;
}

/**
 * The name to write to `firmware` (relative to the firmware directory) for
 * a source file.
 *
 * @example The i.MX DSP places firmware in a subdirectory
 * ```ts
 * import { firmwareName } from "./placement.ts";
 * firmwareName("/rootfs/hifi4.elf", { directory: "imx/dsp" },
 *   { index: "remoteproc1", name: "imx-dsp-rproc" }, new Date(0), "0a1b2c3d");
 * // "imx/dsp/hifi4-19700101T000000Z-0a1b2c3d.elf"
 * ```
 *
 * @param source Path of the firmware in the rootfs.
 * @param placement The plugin's placement.
 * @param device The processor (for `{device}` and `{index}`).
 * @param now Timestamp to use.
 * @param random Random suffix (8 hex digits by default).
 * @returns A relative name of `[A-Za-z0-9._-]` components.
 * @throws {ConfigError} When the placement is malformed.
 */
export function firmwareName(
  source: string,
  placement: FirmwarePlacement,
  device: Pick<DeviceRef, "index" | "name">,
  now: Date = new Date(),
  random: string = randomHex(4),
): string {
  const problem = placementProblem(placement);
  if (problem) throw new ConfigError(problem);
  const ext = extname(source).replace(/[^A-Za-z0-9.]/g, "").slice(0, 16);
  const stem = basename(source, extname(source)).replace(/^[.]+/, "")
    .slice(0, 64) || "firmware";
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const values: Record<string, string> = {
    stem,
    ext,
    stamp,
    rand: random,
    device: device.name,
    index: device.index,
  };
  const name = (placement.template ?? DEFAULT_TEMPLATE)
    .replace(/\{([a-z]+)\}/g, (_, v: string) => values[v] ?? "")
    .replace(/[^A-Za-z0-9._-]/g, "_").replace(/^[.]+/, "")
    .slice(0, 200) || `firmware-${random}`;
  return placement.directory ? `${placement.directory}/${name}` : name;
}

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}
