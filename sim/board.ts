/**
 * The simulator's board description, as `sim/main.ts` takes it: a
 * `--processors` list or a `--board` JSON file. Both use the field names of
 * {@linkcode ProcessorSpec} and are validated by one schema, so a processor
 * can be given a driver, device tree compatibles, a boot state and faults
 * from the command line, and every plugin can be tried by hand.
 *
 * @module
 */
import { z } from "zod";
import { type ProcessorSpec, SimulatorError } from "./simulator.ts";

const errno = z.string().regex(/^E[A-Z0-9]+$/, "an errno name such as EBUSY");
const ms = z.number().int().min(0).max(600_000);
const times = z.number().int().min(0).max(1000);

/** zod schema of one processor: {@linkcode ProcessorSpec} without `checkFirmware`. */
export const processorSchema = z.strictObject({
  name: z.string().regex(
    /^[^\s/:,=]+$/,
    "a name without spaces, slashes, colons, commas or =",
  ),
  driver: z.string().regex(/^[^\s/]+$/, "a driver name").optional(),
  compatible: z.array(z.string().regex(/^[^\s\0]+$/, "a compatible"))
    .optional(),
  deviceName: z.string().regex(/^[^\s/]+$/, "a device name").optional(),
  cluster: z.string().regex(/^[^\s/]+$/, "a cluster node name").optional(),
  bootState: z.enum(["offline", "attached"]).optional(),
  startDelayMs: ms.optional(),
  refuseStart: errno.optional(),
  refuseStartTimes: times.optional(),
  refuseStop: errno.optional(),
  refuseStopTimes: times.optional(),
  refuseStopAttached: errno.optional(),
  stopDelayMs: ms.optional(),
  recovery: z.enum(["enabled", "disabled"]).optional(),
  trace: z.boolean().optional(),
  crashedStopRefused: z.boolean().optional(),
});

/** zod schema of a `--board` file. */
export const boardSchema = z.strictObject({
  $comment: z.string().optional(),
  processors: z.array(processorSchema).min(1),
});

const NUMBERS = new Set([
  "startDelayMs",
  "stopDelayMs",
  "refuseStartTimes",
  "refuseStopTimes",
]);
const BOOLEANS = new Set(["trace", "crashedStopRefused"]);

function check(value: unknown, where: string): ProcessorSpec[] {
  const result = boardSchema.safeParse(value);
  if (result.success) {
    // Absent fields stay absent (exactOptionalPropertyTypes).
    return result.data.processors.map((p) =>
      Object.fromEntries(
        Object.entries(p).filter(([, v]) => v !== undefined),
      ) as unknown as ProcessorSpec
    );
  }
  const issue = result.error.issues[0]!;
  const [top, n, ...rest] = issue.path;
  let at = issue.path.join(".") || "(top level)";
  if (top === "processors" && typeof n === "number") {
    const name = (value as { processors: Array<{ name?: unknown }> })
      .processors[n]?.name;
    at = `processor ${n + 1}${typeof name === "string" ? ` (${name})` : ""}${
      rest.length > 0 ? `, field ${rest.join(".")}` : ""
    }`;
  }
  const message = issue.code === "unrecognized_keys"
    ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")}`
    : issue.message;
  throw new SimulatorError(`${where}: ${at}: ${message}`);
}

/**
 * Parses a `--processors` list: processors separated by commas, each
 * `NAME[:FIELD=VALUE]...` with the fields of {@linkcode ProcessorSpec}.
 * `compatible` may be repeated; a compatible is `vendor,model`, and its comma
 * does not separate processors. A boolean field alone means true.
 *
 * @example An i.MX M4 and a plain DSP
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProcessors } from "./board.ts";
 *
 * assert.deepEqual(
 *   parseProcessors("m4:driver=imx-rproc:compatible=fsl,imx8mm-cm4,dsp"),
 *   [
 *     { name: "m4", driver: "imx-rproc", compatible: ["fsl,imx8mm-cm4"] },
 *     { name: "dsp" },
 *   ],
 * );
 * ```
 *
 * @param list The option's value.
 * @returns The processors, in index order.
 * @throws {SimulatorError} Naming the processor and field at fault.
 */
export function parseProcessors(list: string): ProcessorSpec[] {
  const specs: Array<Record<string, unknown>> = [];
  // The compatible being read, while it has no comma yet.
  let open: string[] | undefined;
  for (const piece of list.split(",")) {
    if (!open && piece === "") continue;
    let fields = piece.split(":");
    if (open) {
      open[open.length - 1] += `,${fields[0]}`;
      open = undefined;
      fields = fields.slice(1);
    } else {
      specs.push({ name: fields[0] });
      fields = fields.slice(1);
    }
    const spec = specs.at(-1)!;
    for (const field of fields) {
      const eq = field.indexOf("=");
      const key = eq < 0 ? field : field.slice(0, eq);
      const text = eq < 0 ? undefined : field.slice(eq + 1);
      let value: unknown = text;
      if (key === "compatible" && text !== undefined) {
        const list = (spec.compatible ??= []) as string[];
        list.push(text);
        if (!text.includes(",")) open = list;
        continue;
      }
      if (BOOLEANS.has(key)) {
        value = text === undefined || text === "true"
          ? true
          : text === "false"
          ? false
          : text;
      } else if (NUMBERS.has(key) && text !== undefined && text !== "") {
        value = Number.isNaN(Number(text)) ? text : Number(text);
      }
      spec[key] = value;
    }
  }
  return check({ processors: specs }, "--processors");
}

/**
 * Reads a `--board` file: `{"processors": [ProcessorSpec, ...]}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBoard } from "./board.ts";
 *
 * const text = JSON.stringify({
 *   processors: [{ name: "r5f0", driver: "k3_r5_rproc", cluster: "r5fss0" }],
 * });
 * assert.deepEqual(parseBoard(text, "board.json"), [
 *   { name: "r5f0", driver: "k3_r5_rproc", cluster: "r5fss0" },
 * ]);
 * ```
 *
 * @param text The file's contents.
 * @param file The file, for messages.
 * @returns The processors, in index order.
 * @throws {SimulatorError} Naming the file, processor and field at fault.
 */
export function parseBoard(text: string, file: string): ProcessorSpec[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SimulatorError(
      `${file}: not valid JSON: ${(error as Error).message}`,
    );
  }
  return check(value, file);
}
