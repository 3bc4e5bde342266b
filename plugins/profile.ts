/**
 * Vendor-authored JSON profiles: a SoC described without TypeScript.
 * Loaded by `registry.ts` only when the profile directory holds `*.json`
 * files, so zod is imported only then (never by `state` or `kill`).
 *
 * A profile (see docs/writing-a-plugin.md):
 * ```json
 * {
 *   "name": "acme-m7",
 *   "description": "ACME A1 Cortex-M7",
 *   "resource": "cortex-m7",
 *   "match": { "drivers": ["acme-rproc"], "compatibles": ["acme,a1-m7"], "names": ["m7*"] },
 *   "attached": "stop",
 *   "stateAliases": { "suspended": "running" },
 *   "firmware": { "directory": "acme", "template": "{device}-{stem}-{rand}{ext}",
 *                 "machines": ["ARM"], "resourceTable": "required" },
 *   "start": { "timeoutMs": 5000, "retries": 2, "retryOn": ["ETIMEDOUT"], "retryDelayMs": 200 },
 *   "stop": { "retries": 1, "retryOn": ["EBUSY"], "hints": { "EBUSY": "..." } },
 *   "refuse": [{ "names": ["dm-r5f"], "operations": ["deploy", "stop"], "message": "..." }]
 * }
 * ```
 *
 * @module
 */
import { z } from "zod";
import { ConfigError } from "../core/util/errors.ts";
import { machineName } from "../core/firmware/elf.ts";
import { placementProblem } from "../core/firmware/placement.ts";
import type { Device } from "../core/device/sysfs.ts";
import {
  ATTACHED_ANNOTATION,
  ATTACHED_DOC,
  globMatch,
  requireResourceTable,
  stopAttached,
} from "./_common.ts";
import {
  definePlugin,
  type Plugin,
  PLUGIN_API_VERSION,
} from "../core/plugin/types.ts";

const errno = z.string().regex(
  /^E[A-Z0-9]+$/,
  "must be an errno name such as EBUSY",
);
const strings = z.array(z.string().min(1)).min(1);

const policy = z.strictObject({
  timeoutMs: z.number().int().positive().max(600_000).optional(),
  retries: z.number().int().min(0).max(20).optional(),
  retryOn: z.array(errno).optional(),
  retryDelayMs: z.number().int().min(0).max(60_000).optional(),
  hints: z.record(errno, z.string().min(1)).optional(),
});

const match = z.strictObject({
  drivers: strings.optional(),
  compatibles: strings.optional(),
  names: strings.optional(),
}).refine(
  (m) => m.drivers || m.compatibles || m.names,
  "give at least one of drivers, compatibles, names",
);

/** zod schema of a profile. */
export const profileSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().regex(
    /^[a-z0-9][a-z0-9._-]{0,63}$/,
    "must be lower-case letters, digits, . _ - (up to 64)",
  ),
  description: z.string().optional(),
  resource: z.string().regex(
    /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    "must be a DNS label: lower-case letters, digits and - (up to 63)",
  ).optional(),
  match,
  attached: z.enum(["stop", "refuse"]).optional(),
  stateAliases: z.record(
    z.string().min(1),
    z.enum(["running", "stopped", "crashed", "transient"]),
  ).optional(),
  firmware: z.strictObject({
    directory: z.string().optional(),
    template: z.string().optional(),
    machines: z.array(z.union([z.number().int().min(0).max(65535), z.string()]))
      .optional(),
    resourceTable: z.enum(["optional", "required"]).optional(),
  }).superRefine((f, ctx) => {
    const problem = placementProblem(stripUndefined(f));
    if (problem) ctx.addIssue({ code: "custom", message: problem });
    for (const [i, m] of (f.machines ?? []).entries()) {
      if (typeof m === "string" && machineNumber(m) === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["machines", i],
          message: `unknown machine name ${
            JSON.stringify(m)
          } (use the e_machine number)`,
        });
      }
    }
  }).optional(),
  start: policy.optional(),
  stop: policy.optional(),
  refuse: z.array(z.strictObject({
    names: strings.optional(),
    compatibles: strings.optional(),
    operations: z.array(z.enum(["deploy", "stop"])).min(1),
    message: z.string().min(1),
  })).optional(),
});

/** A parsed profile. */
export type Profile = z.infer<typeof profileSchema>;

function machineNumber(name: string): number | undefined {
  for (let n = 0; n < 1024; n++) if (machineName(n) === name) return n;
  return undefined;
}

/**
 * Parses and validates a profile's text.
 *
 * @param text The file's contents.
 * @param file The file, for messages.
 * @returns The profile.
 * @throws {ConfigError} Naming the file and the field at fault.
 */
export function parseProfile(text: string, file: string): Profile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `plugin profile ${file}: not valid JSON: ${(error as Error).message}`,
    );
  }
  const result = profileSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
  throw new ConfigError(
    `plugin profile ${file}: field ${path}: ${issue.message}`,
  );
}

function matchesRules(
  rules: {
    drivers?: string[] | undefined;
    compatibles?: string[] | undefined;
    names?: string[] | undefined;
  },
  device: Device,
): boolean {
  if (
    rules.drivers &&
    !(device.driver !== undefined && rules.drivers.includes(device.driver))
  ) return false;
  if (
    rules.compatibles &&
    !device.compatible.some((c) =>
      rules.compatibles!.some((p) => globMatch(p, c))
    )
  ) return false;
  if (rules.names && !rules.names.some((p) => globMatch(p, device.name))) {
    return false;
  }
  return true;
}

/**
 * Turns a profile into a plugin.
 *
 * @param profile The parsed profile.
 * @param file Where it came from (for the description).
 * @returns The plugin.
 */
export function profilePlugin(profile: Profile, file: string): Plugin {
  const machines = (profile.firmware?.machines ?? []).map((m) =>
    typeof m === "number" ? m : machineNumber(m)!
  );
  const plugin: Plugin = {
    name: profile.name,
    description: profile.description ?? `vendor profile ${file}`,
    ...(profile.resource ? { resource: profile.resource } : {}),
    ...(profile.attached === "stop"
      ? { annotations: { [ATTACHED_ANNOTATION]: ATTACHED_DOC } }
      : {}),
    matches: (device) => matchesRules(profile.match, device),
    refuses(operation, { device }) {
      for (const rule of profile.refuse ?? []) {
        if (
          rule.operations.includes(operation) &&
          (rule.names || rule.compatibles) && matchesRules(rule, device)
        ) return rule.message;
      }
      return undefined;
    },
    checkFirmware(image) {
      if (profile.firmware?.resourceTable === "required") {
        requireResourceTable(image, `profile ${profile.name} requires one`);
      }
    },
    firmwareMachines: () => ({
      machines,
      core: `declared as ${
        machines.map(machineName).join(" or ")
      } by profile ${profile.name}`,
    }),
    firmwarePlacement: () => {
      const placement: { directory?: string; template?: string } = {};
      if (profile.firmware?.directory) {
        placement.directory = profile.firmware.directory;
      }
      if (profile.firmware?.template) {
        placement.template = profile.firmware.template;
      }
      return placement;
    },
    ...(profile.stateAliases ? { stateAliases: profile.stateAliases } : {}),
    ...(profile.attached === "stop"
      ? {
        prepareStart: (context) =>
          stopAttached(
            context,
            `profile ${profile.name}: the core could not be stopped`,
            stripUndefined(profile.stop ?? {}),
          ),
      }
      : {}),
    ...(profile.start ? { startPolicy: stripUndefined(profile.start) } : {}),
    ...(profile.stop ? { stopPolicy: stripUndefined(profile.stop) } : {}),
  };
  return definePlugin({ ...plugin, apiVersion: PLUGIN_API_VERSION });
}

type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> };

function stripUndefined<T extends object>(value: T): Defined<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as Defined<T>;
}
