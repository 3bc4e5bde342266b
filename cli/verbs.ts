/**
 * The verb table: the one list of verbs. It drives the CLI's dispatch and
 * `--help` (cli.ts), the bundle's entry points (tools/bundle.ts) and what
 * each verb may touch once confined (core/os/confinement.ts).
 *
 * @module
 */
import type { Access } from "../core/os/confinement.ts";

/** One verb. */
export interface VerbEntry {
  /** The module that runs it: loaded lazily, so an entry of the bundle. */
  readonly module: `cli/${string}.ts`;
  /** Synopsis and summary for `--help`; absent for a hidden verb. */
  readonly usage?: readonly [synopsis: string, summary: string];
  /**
   * What it may touch once it confines itself with Landlock; absent for a
   * verb that touches no container and stays unconfined.
   */
  readonly access?: Access;
}

/** The verbs, in `--help` order. */
export const VERBS = {
  create: {
    module: "cli/create.ts",
    usage: [
      "create [--bundle|-b DIR] [--pid-file FILE] ID",
      "make a container and its proxy",
    ],
    access: "create",
  },
  start: {
    module: "cli/start.ts",
    usage: ["start ID", "deploy the firmware and start the processor"],
    access: "deploy",
  },
  kill: {
    module: "cli/kill.ts",
    usage: [
      "kill [--all|-a] ID [SIGNAL]",
      "TERM/INT stop the processor, KILL kills the proxy",
    ],
    access: "signal",
  },
  delete: {
    module: "cli/delete.ts",
    usage: [
      "delete [--force|-f] ID",
      "remove a stopped (or, with -f, any) container",
    ],
    access: "remove",
  },
  state: {
    module: "cli/state.ts",
    usage: ["state ID", "print the OCI state"],
    access: "read",
  },
  list: {
    module: "cli/list.ts",
    usage: ["list [--format table|json] [--quiet|-q]", "list containers"],
    access: "read",
  },
  ps: {
    module: "cli/ps.ts",
    usage: ["ps [--format table|json] ID", "the proxy's pid"],
    access: "read",
  },
  features: {
    module: "cli/features.ts",
    usage: ["features", "print the OCI features document"],
  },
  processors: {
    module: "cli/processors.ts",
    usage: [
      "processors [--format table|json]",
      "the remote processors: state, plugin, holder",
    ],
    access: "read",
  },
  "device-plugin": {
    module: "cli/device_plugin.ts",
    usage: [
      "device-plugin [--kubelet-dir DIR]",
      "the Kubernetes device plugin (runs until TERM)",
    ],
    // Confines itself (core/device_plugin/confine.ts): it serves gRPC on
    // the kubelet's directory, which no container verb may touch.
  },
  __configure: { module: "cli/configure.ts" },
} as const satisfies Record<string, VerbEntry>;

/** A verb's name. */
export type VerbName = keyof typeof VERBS;

/** A verb that confines itself (one with an `access`). */
export type ConfinedVerb = {
  [K in VerbName]: typeof VERBS[K] extends { access: Access } ? K : never;
}[VerbName];

/**
 * Whether a word names a verb.
 *
 * @param name A word from the command line.
 * @returns Whether it is a key of {@linkcode VERBS}.
 */
export function isVerb(name: string): name is VerbName {
  return Object.hasOwn(VERBS, name);
}

/**
 * The verb lines of `--help`.
 *
 * @returns One line per visible verb.
 */
export function verbUsage(): string[] {
  const lines: string[] = [];
  for (const entry of Object.values(VERBS) as VerbEntry[]) {
    if (!entry.usage) continue;
    const [synopsis, summary] = entry.usage;
    lines.push(`  ${synopsis.padEnd(49)}${summary}`);
  }
  return lines;
}
