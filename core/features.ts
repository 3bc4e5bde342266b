/**
 * `features`: the OCI runtime features document.
 *
 * @module
 */
import { HONOURED_ANNOTATIONS } from "./annotations.ts";
import { SPEC_VERSION, VERSION } from "./version.ts";
import { allPlugins } from "../plugins/registry.ts";

/**
 * Builds the features document (runtime-spec features.md). Only fields that
 * are true of this runtime are set: no hooks, no mounts, no namespaces.
 *
 * @returns The document.
 */
export function features(): Record<string, unknown> {
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
      "org.remoteproc-runtime.plugins": allPlugins().map((p) => p.name).join(
        ",",
      ),
      ...Object.fromEntries(
        Object.entries(HONOURED_ANNOTATIONS).map(([k, v]) => [
          `org.remoteproc-runtime.annotation.${k}`,
          v,
        ]),
      ),
    },
  };
}
