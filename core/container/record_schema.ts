/**
 * The zod schema of the container record, loaded only to explain a record
 * that failed the cheap check in `record.ts`.
 *
 * @module
 */
import { z } from "zod";
import { fieldPath } from "../util/message_text.ts";

function hasOwnProto(value: unknown): boolean {
  return typeof value === "object" && value !== null &&
    Object.hasOwn(value, "__proto__");
}

/** zod schema of `state.json`. */
export const recordSchema = z.object({
  version: z.literal(1),
  ociVersion: z.string(),
  id: z.string().min(1),
  status: z.enum(["creating", "created", "running", "stopped"]),
  pid: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  bundle: z.string(),
  rootfs: z.string(),
  rootfsIdentity: z.object({
    dev: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    ino: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  }).optional(),
  created: z.string(),
  // zod's record skips a "__proto__" key; JSON.parse makes it an own
  // property, which the cheap guard (rightly) checks like any other.
  annotations: z.custom<unknown>(
    (v) =>
      !hasOwnProto(v) ||
      typeof (v as Record<string, unknown>)["__proto__"] === "string",
    { message: 'Invalid input: expected string for key "__proto__"' },
  ).pipe(z.record(z.string(), z.string())),
  device: z.object({ index: z.string(), name: z.string(), dir: z.string() }),
  plugin: z.string(),
  stateAliases: z.record(z.string(), z.string()).optional(),
  firmware: z.object({
    source: z.string(),
    stored: z.string().optional(),
    name: z.string().optional(),
  }),
  placeholder: z.literal(true).optional(),
});

/**
 * Names the first problem zod finds, as `field status: invalid option`.
 *
 * @param value A parsed state file.
 * @returns One line; `"unknown problem"` if zod accepts it.
 */
export function describeRecordProblem(value: unknown): string {
  const result = recordSchema.safeParse(value);
  if (result.success) return "unknown problem";
  const issue = result.error.issues[0];
  if (!issue) return "unknown problem";
  const path = fieldPath(issue.path);
  return `field ${path}: ${issue.message}`;
}
