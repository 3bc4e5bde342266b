/**
 * Registering the runtime with engines, idempotently: podman
 * (containers.conf drop-in), Docker (daemon.json `runtimes`), containerd and
 * k3s (a managed block in config.toml for the stock runc shim with
 * `BinaryName`). Used by install.sh through the hidden `__configure` verb.
 * Each function takes the current file text (or undefined) and returns the
 * new text; the caller backs the old file up and writes.
 *
 * @module
 */

/** Runtime name engines know it by. */
export const RUNTIME_NAME = "remoteproc";
const BEGIN = "# BEGIN remoteproc-runtime (managed by install.sh)";
const END = "# END remoteproc-runtime";

/**
 * The podman drop-in (`/etc/containers/containers.conf.d/50-remoteproc-runtime.conf`).
 * Capabilities are keyed by runtime name, so the name is added to
 * `runtime_supports_json` (podman then passes `--log-format=json`), keeping
 * podman's default entries.
 *
 * @example
 * ```ts
 * import { podmanDropIn } from "./engine_config.ts";
 * podmanDropIn("/usr/local/bin/remoteproc-runtime").includes("[engine.runtimes]"); // true
 * ```
 *
 * @param binary Absolute path of the runtime.
 * @returns The drop-in text.
 */
export function podmanDropIn(binary: string): string {
  return [
    "# Written by remoteproc-runtime's install.sh",
    "[engine]",
    `runtime_supports_json = ["crun", "runc", "kata", "runsc", "youki", "krun", "${RUNTIME_NAME}"]`,
    `runtime_supports_nocgroup = ["crun", "krun", "${RUNTIME_NAME}"]`,
    "",
    "[engine.runtimes]",
    `${RUNTIME_NAME} = [${JSON.stringify(binary)}]`,
    "",
  ].join("\n");
}

/**
 * Adds or updates `runtimes.remoteproc` in Docker's daemon.json.
 *
 * @param current The file's text, or undefined when it does not exist.
 * @param binary Absolute path of the runtime.
 * @returns The new text.
 * @throws {SyntaxError} When the current file is not a JSON object.
 */
export function dockerDaemonJson(
  current: string | undefined,
  binary: string,
): string {
  const config = current && current.trim() !== "" ? JSON.parse(current) : {};
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new SyntaxError("daemon.json is not a JSON object");
  }
  config.runtimes = { ...config.runtimes, [RUNTIME_NAME]: { path: binary } };
  return JSON.stringify(config, null, 2) + "\n";
}

/**
 * How k3s's `config.toml.tmpl` starts when install.sh makes it: with k3s's
 * own generated configuration (k3s releases since January 2024 define the
 * `base` template), to which the managed block is added.
 */
export const K3S_TEMPLATE_BASE = '{{ template "base" . }}\n';

/**
 * Adds or replaces the managed block in containerd's config.toml (also
 * k3s's config.toml.tmpl): the CRI runtime handler `remoteproc` (what a
 * RuntimeClass names), which uses the stock runc shim with our binary and
 * passes the pod's and the container's `remoteproc.*` annotations into the
 * OCI spec. A `remoteproc` runtime of type `io.containerd.remoteproc.v1`
 * (the Go remoteproc-runtime's configuration) is kept as it is: that name
 * reaches this runtime through `containerd-shim-remoteproc-v1`.
 *
 * @param current The file's text, or undefined when it does not exist.
 * @param binary Absolute path of the runtime.
 * @param base What a new file starts with (k3s: {@linkcode K3S_TEMPLATE_BASE}).
 * @returns The new text.
 */
export function containerdToml(
  current: string | undefined,
  binary: string,
  base = "version = 2\n",
): string {
  const table =
    `plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${RUNTIME_NAME}`;
  const block = [
    BEGIN,
    `[${table}]`,
    `  runtime_type = "io.containerd.runc.v2"`,
    `  pod_annotations = ["remoteproc.*"]`,
    `  container_annotations = ["remoteproc.*"]`,
    `[${table}.options]`,
    `  BinaryName = ${JSON.stringify(binary)}`,
    END,
  ].join("\n");
  let text = current ?? base;
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start >= 0 && end > start) {
    text = text.slice(0, start) + block + text.slice(end + END.length);
    return text.endsWith("\n") ? text : text + "\n";
  }
  const header = text.indexOf(`[${table}]`);
  if (header >= 0) {
    // The Go remoteproc-runtime's documented block: its shim name now
    // reaches this runtime (containerd-shim-remoteproc-v1, installed beside
    // it), so the block is left as it is.
    const body = text.slice(header + table.length + 2).split(/\n\s*\[/)[0]!;
    if (
      /^\s*runtime_type\s*=\s*"io\.containerd\.remoteproc\.v1"\s*$/m.test(body)
    ) {
      return text;
    }
    throw new SyntaxError(
      `config.toml already defines [${table}] outside the managed block`,
    );
  }
  return `${text.replace(/\n*$/, "\n")}\n${block}\n`;
}
