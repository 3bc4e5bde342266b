/**
 * `features`: the OCI runtime features document.
 *
 * @module
 */
import { HONOURED_ANNOTATIONS } from "../container/annotations.ts";
import { SPEC_VERSION, VERSION } from "../util/version.ts";
import type { Plugin } from "../plugin/types.ts";

/**
 * Builds the features document (runtime-spec features.md). Only fields that
 * are true of this runtime are set: no hooks, no mounts, no namespaces.
 *
 * The plugins are listed in match order, each with the annotations it
 * honours (`org.remoteproc-runtime.plugin.<name>`).
 *
 * @example The features document lists the plugins
 * ```ts
 * import assert from "node:assert/strict";
 * import { features } from "./features.ts";
 * import { allPlugins } from "../../plugins/registry.ts";
 *
 * const doc = features(allPlugins());
 * assert.equal(doc.ociVersionMin, "1.0.0");
 * assert.deepEqual(doc.hooks, []);
 * const annotations = doc.annotations as Record<string, string>;
 * assert.equal(
 *   annotations["org.remoteproc-runtime.plugins"],
 *   "imx,stm32mp,ti-k3,generic",
 * );
 * ```
 *
 * @param plugins The plugins in match order (the CLI passes vendor
 * profiles, the configured vendor modules and the built-ins).
 * @param sourceOf Where a plugin comes from (`built-in`,
 * `configuration: <entry>`, `profile: <file>`), listed as its `source`.
 * @returns The document.
 */
export function features(
  plugins: readonly Plugin[],
  sourceOf: (plugin: Plugin) => string = () => "built-in",
): Record<string, unknown> {
  return {
    ociVersionMin: "1.0.0",
    ociVersionMax: SPEC_VERSION,
    hooks: [],
    mountOptions: [],
    linux: {
      namespaces: [],
      capabilities: [],
      cgroup: { v1: false, v2: false, systemd: false, systemdUser: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: {
      "org.remoteproc-runtime.version": VERSION,
      "org.remoteproc-runtime.plugins": plugins.map((p) => p.name).join(","),
      ...Object.fromEntries(plugins.map((p) => [
        `org.remoteproc-runtime.plugin.${p.name}`,
        JSON.stringify({
          description: p.description,
          source: sourceOf(p),
          annotations: Object.keys(p.annotations ?? {}),
        }),
      ])),
      ...Object.fromEntries(
        Object.entries(HONOURED_ANNOTATIONS).map(([k, v]) => [
          `org.remoteproc-runtime.annotation.${k}`,
          v,
        ]),
      ),
      ...Object.fromEntries(
        plugins.flatMap((p) => Object.entries(p.annotations ?? {})).map((
          [k, v],
        ) => [`org.remoteproc-runtime.annotation.${k}`, v]),
      ),
    },
  };
}
