/**
 * `deno task bundle`: builds `dist/js/`, the form of the program that
 * `bin/remoteproc-runtime` runs: one ES module per entry (the CLI and every
 * module loaded through `core/util/lazy.ts`), shared code in chunks, npm
 * packages included, made by `deno bundle` (esbuild, fetched from the npm
 * registry on first use). The proxy, a process of its own that loads
 * nothing lazily, is one self-contained file (`proxy.js`): its start-up is
 * on `create`'s critical path, and one file loads faster than six.
 *
 * Why: a verb loads its ~30 `.ts` modules in 10-16 ms; the same code as a
 * few `.js` files loads in 2-4 ms, and plain JavaScript needs no
 * transpiling, so a confined run (which may not write Deno's emit cache in
 * `DENO_DIR`) never waits on that cache. See BENCHMARKS.md.
 *
 * The launcher uses the bundle only while no source file is newer than
 * `dist/js/cli.js` (written last); otherwise it runs the sources. The
 * tasks that run the program (test, demo, bench, the engine and kernel
 * tiers) build it first.
 *
 * @module
 */
import { fileURLToPath } from "../core/util/posix_path.ts";
import { removeIfPresent } from "../core/util/fs.ts";
import { LAZY_MODULES } from "../core/util/lazy.ts";
import { VERBS } from "../cli/verbs.ts";
import { generateOrSay } from "./plugins.ts";

/** The proxy's entry, bundled on its own into `proxy.js`. */
export const PROXY_ENTRY = "proxy.ts";

/**
 * Every module `lazyImport()` loads, project-relative: each verb's (from
 * the verb table, cli/verbs.ts) and the others (`LAZY_MODULES` in
 * core/util/lazy.ts); tests/bundle_test.ts checks it against the sources.
 * tools/compile.ts embeds the same list.
 */
export const LAZY_ENTRIES: readonly string[] = [
  ...Object.values(VERBS).map((verb) => verb.module),
  ...LAZY_MODULES,
];

/**
 * The bundle's entry points besides the proxy, project-relative: the CLI
 * and every lazily loaded module. They share code through chunks, so a
 * class is one class whichever entry loaded it.
 */
export const ENTRIES: readonly string[] = [
  "cli.ts",
  ...LAZY_ENTRIES.filter((m) => m !== PROXY_ENTRY),
];

/** The project checkout. */
export const PROJECT = fileURLToPath(new URL("..", import.meta.url)).replace(
  /\/$/,
  "",
);

/** Where the bundle goes. */
export const OUT_DIR = `${PROJECT}/dist/js`;

/**
 * Builds the bundle into `outDir` (replaced whole; `cli.js` is touched last
 * so that its mtime marks the build).
 *
 * @param outDir Output directory.
 * @returns Deno's exit code and its stderr.
 */
export async function bundle(
  outDir = OUT_DIR,
): Promise<{ code: number; stderr: string }> {
  const staging = `${outDir}.new`;
  removeIfPresent(staging, { recursive: true });
  for (
    const output of [
      [
        "--code-splitting",
        `--outdir=${staging}`,
        ...ENTRIES.map((e) => `${PROJECT}/${e}`),
      ],
      [`--output=${staging}/proxy.js`, `${PROJECT}/${PROXY_ENTRY}`],
    ]
  ) {
    const out = await denoBundle(output);
    if (out.code !== 0) return out;
  }
  removeIfPresent(outDir, { recursive: true });
  Deno.renameSync(staging, outDir);
  const now = new Date();
  Deno.utimeSync(`${outDir}/cli.js`, now, now);
  return { code: 0, stderr: "" };
}

async function denoBundle(
  args: string[],
): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "-q",
      `--config=${PROJECT}/deno.json`,
      "--platform=deno",
      "--format=esm",
      "--packages=bundle",
      ...args,
    ],
    cwd: PROJECT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

if (import.meta.main) {
  // The configured vendor plugins first (plugins/vendor.gen.ts).
  if (!await generateOrSay()) Deno.exit(1);
  const { code, stderr } = await bundle();
  if (code !== 0) {
    Deno.stderr.writeSync(
      new TextEncoder().encode(`deno task bundle failed:\n${stderr}`),
    );
  }
  Deno.exit(code);
}
