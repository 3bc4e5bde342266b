/**
 * What a kernel `state` string means for a container that was started, with
 * a plugin's aliases over the generic table. Kept free of plugin and zod
 * imports: `state` and the proxy use it on every read.
 *
 * @module
 */
import type { StateMeaning } from "../plugin/types.ts";
import { isKernelState } from "./sysfs.ts";

/**
 * The generic table (the kernel's own semantics): after `start`, only
 * `running` is running; `crashed` is left to the recovery logic; anything
 * else means our firmware no longer runs (`attached` is firmware we did not
 * load, `detached` one that runs without us).
 */
export const GENERIC_STATE_MEANINGS: Readonly<Record<string, StateMeaning>> = {
  offline: "stopped",
  suspended: "stopped",
  running: "running",
  crashed: "crashed",
  deleted: "stopped",
  attached: "stopped",
  detached: "stopped",
  invalid: "stopped",
};

/**
 * The meaning of a state read from sysfs.
 *
 * @example A TI vendor kernel's `suspended` core is rebooted on resume
 * ```ts
 * import { stateMeaning } from "./processor_state.ts";
 * stateMeaning("suspended", { suspended: "running" }); // "running"
 * stateMeaning("suspended"); // "stopped"
 * stateMeaning(""); // "transient"
 * ```
 *
 * @param state The trimmed `state` text.
 * @param aliases The plugin's aliases (recorded at create).
 * @returns Its meaning; `transient` for an empty or unknown string.
 */
export function stateMeaning(
  state: string,
  aliases: Readonly<Record<string, string>> = {},
): StateMeaning {
  const alias = Object.hasOwn(aliases, state) ? aliases[state] : undefined;
  if (isMeaning(alias)) return alias;
  if (isKernelState(state)) return GENERIC_STATE_MEANINGS[state] ?? "stopped";
  return "transient";
}

/**
 * Whether a string is a {@linkcode StateMeaning}.
 *
 * @param value Anything.
 * @returns True for one of the four meanings.
 */
export function isMeaning(value: unknown): value is StateMeaning {
  return value === "running" || value === "stopped" || value === "crashed" ||
    value === "transient";
}
