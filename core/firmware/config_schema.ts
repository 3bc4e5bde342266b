/**
 * zod schema of the parts of an OCI config.json this runtime reads. Loaded
 * only by `create`.
 *
 * @module
 */
import { z } from "zod";

/** The fields of config.json the runtime uses; others pass through. */
export const configSchema = z.looseObject({
  ociVersion: z.string().regex(/^1\.\d+\.\d+(?:[-+].*)?$/, {
    error: (issue) =>
      `unsupported ociVersion ${
        JSON.stringify(issue.input)
      }: this runtime implements OCI runtime spec 1.x`,
  }),
  process: z.looseObject({
    terminal: z.boolean().optional(),
    cwd: z.string().optional(),
    args: z.array(z.string()).length(1, {
      error: (issue) =>
        `must have exactly 1 element, the firmware file, not ${
          Array.isArray(issue.input) ? issue.input.length : "another number"
        }`,
    }),
  }),
  root: z.looseObject({
    path: z.string().min(1),
    readonly: z.boolean().optional(),
  }),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** The validated config. */
export type Config = z.infer<typeof configSchema>;
