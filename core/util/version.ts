import { projectUrl } from "./lazy.ts";

/** Version of remoteproc-runtime. */
export const VERSION = "0.1.0";
/** OCI runtime spec version whose state and features documents are produced. */
export const SPEC_VERSION = "1.2.0";

/**
 * The git commit the binary was built from: `build_info.json` (written by
 * `deno task compile` and embedded in the binary), else the checkout's
 * `.git/HEAD`, else `unknown`. Read only by `--version`.
 *
 * @returns A commit id or `unknown`.
 */
export function buildCommit(): string {
  try {
    const info = JSON.parse(
      Deno.readTextFileSync(projectUrl("build_info.json")),
    );
    if (typeof info.commit === "string") return info.commit;
  } catch {
    // not a compiled build
  }
  try {
    const git = projectUrl(".git/");
    const head = Deno.readTextFileSync(new URL("HEAD", git)).trim();
    if (!head.startsWith("ref: ")) return head.slice(0, 12);
    return Deno.readTextFileSync(new URL(head.slice(5), git)).trim().slice(
      0,
      12,
    );
  } catch {
    return "unknown";
  }
}
