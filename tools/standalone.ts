/**
 * `deno task test:standalone`: the black-box suite against a stand-in for
 * the compiled binary, which cannot be built where no denort can be had
 * (see tools/compile.ts).
 *
 * The stand-in, `dist/standalone/remoteproc-runtime`, does what the binary
 * does, as far as the runtime can tell:
 * - it is one executable, taking the binary's command line, that `create`
 *   re-executes as its proxy (`__proxy`): it names itself in
 *   `REMOTEPROC_RUNTIME_STANDALONE`, the runtime's one test for "compiled"
 *   besides `Deno.build.standalone` (core/proxy/self.ts);
 * - it runs `cli.ts` with `-A`, as the binary has it baked in, and without
 *   the launcher (no bundle, no narrow permission set);
 * - it has exactly the modules `deno compile` would embed: the static graph
 *   of the entry and of each `--include` (tools/compile.ts, `INCLUDES`),
 *   copied into `dist/standalone/`. A module loaded lazily but missing from
 *   the list is missing there too, and the verb that loads it fails.
 *
 * Usage: `deno run -A tools/standalone.ts [--build-only] [TEST_FILE...]`
 * (default: every test file that uses tests/helpers/harness.ts). Ends with
 * `deno test`'s exit code.
 *
 * @module
 */
import { dirname, join, relative } from "node:path";
import { ENTRY, INCLUDES, writeBuildInfo } from "./compile.ts";
import { PROJECT } from "./bundle.ts";
import { generateOrSay } from "./plugins.ts";
import { STANDALONE_ENV } from "../core/proxy/self.ts";
import { removeIfPresent } from "../core/util/fs.ts";

/** Where the stand-in is built. */
export const STANDALONE_DIR = join(PROJECT, "dist/standalone");
/** The stand-in executable. */
export const STANDALONE_BIN = join(STANDALONE_DIR, "remoteproc-runtime");

const say = (line: string) =>
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string } }[];
}

/**
 * The project files `deno compile` would embed: the static (code, not
 * type-only) graph of the entry and of each included module, and the
 * included files themselves.
 *
 * @param includes What is given to `--include` (default: what
 * tools/compile.ts gives).
 * @returns Project-relative paths; npm packages as `node_modules/<name>`.
 */
export async function embeddedFiles(
  includes: readonly string[] = INCLUDES,
): Promise<string[]> {
  const roots = [ENTRY, ...includes];
  const modules = roots.filter((r) => /\.[jt]s$/.test(r));
  // One `deno info` for every root: a throw-away module importing them all.
  const url = (path: string) => new URL(`file://${join(PROJECT, path)}`).href;
  const probe = Deno.makeTempFileSync({ suffix: ".ts" });
  Deno.writeTextFileSync(
    probe,
    modules.map((m) => `import ${JSON.stringify(url(m))};\n`).join(""),
  );
  let info: { modules: InfoModule[] };
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "info",
        "--json",
        `--config=${join(PROJECT, "deno.json")}`,
        probe,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `deno info failed: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
    info = JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    Deno.removeSync(probe);
  }
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const walk = (specifier: string) => {
    if (seen.has(specifier)) return;
    seen.add(specifier);
    for (const dep of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (dep.code) walk(dep.code.specifier);
    }
  };
  modules.forEach((m) => walk(url(m)));
  const files = new Set<string>(roots.filter((r) => !modules.includes(r)));
  for (const specifier of seen) {
    if (!specifier.startsWith("file:")) continue; // node:, built into Deno
    const path = relative(PROJECT, new URL(specifier).pathname);
    const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
    files.add(pkg ? `node_modules/${pkg[1]}` : path);
  }
  return [...files].sort();
}

/** Copies a file or directory tree. */
function copyTree(from: string, to: string): void {
  const stat = Deno.lstatSync(from);
  Deno.mkdirSync(dirname(to), { recursive: true });
  if (stat.isDirectory) {
    for (const entry of Deno.readDirSync(from)) {
      copyTree(join(from, entry.name), join(to, entry.name));
    }
  } else if (stat.isSymlink) {
    Deno.symlinkSync(Deno.readLinkSync(from), to);
  } else {
    Deno.copyFileSync(from, to);
  }
}

/** `'...'` for sh. */
function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * Builds the stand-in into a directory (replaced whole) and warms its
 * module cache, as the binary has its modules transpiled.
 *
 * @param dir Where (default {@linkcode STANDALONE_DIR}).
 * @returns The stand-in executable.
 */
export async function buildStandIn(dir = STANDALONE_DIR): Promise<string> {
  const staging = `${dir}.new`;
  removeIfPresent(staging, { recursive: true });
  for (const path of await embeddedFiles()) {
    if (path === "build_info.json") continue; // written below
    copyTree(join(PROJECT, path), join(staging, path));
  }
  // deno compile embeds the config (import resolution) but no lock file.
  copyTree(join(PROJECT, "deno.json"), join(staging, "deno.json"));
  copyTree(join(PROJECT, "package.json"), join(staging, "package.json"));
  writeBuildInfo(staging);
  const deno = Deno.execPath();
  const self = join(dir, "remoteproc-runtime");
  Deno.writeTextFileSync(
    join(staging, "remoteproc-runtime"),
    `#!/bin/sh
# Stand-in for the compiled binary (tools/standalone.ts): cli.ts with -A,
# from a copy of exactly what deno compile embeds. It names itself in
# ${STANDALONE_ENV}, so that create re-executes it as the proxy, as the
# binary re-executes itself.
export ${STANDALONE_ENV}=${quote(self)}
export DENO_DIR=${quote(join(dir, ".deno"))}
export DENO_NO_UPDATE_CHECK=1
exec ${quote(deno)} run -q -A --no-prompt --no-lock --config=${
      quote(join(dir, "deno.json"))
    } ${quote(join(dir, ENTRY))} "$@"
`,
    { mode: 0o755 },
  );
  removeIfPresent(dir, { recursive: true });
  Deno.renameSync(staging, dir);
  const modules = [ENTRY, ...INCLUDES].filter((m) => m.endsWith(".ts"));
  const cached = await new Deno.Command(deno, {
    args: [
      "cache",
      "-q",
      "--no-lock",
      `--config=${join(dir, "deno.json")}`,
      ...modules.map((m) => join(dir, m)),
    ],
    env: { DENO_DIR: join(dir, ".deno"), DENO_NO_UPDATE_CHECK: "1" },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!cached.success) throw new Error("deno cache failed for the stand-in");
  return self;
}

/** The test files that drive the CLI through tests/helpers/harness.ts. */
function blackBoxTests(): string[] {
  return [...Deno.readDirSync(join(PROJECT, "tests"))]
    .filter((e) => e.isFile && e.name.endsWith("_test.ts"))
    .map((e) => join(PROJECT, "tests", e.name))
    .filter((f) => Deno.readTextFileSync(f).includes("helpers/harness.ts"))
    .sort();
}

async function main(args: string[]): Promise<number> {
  // The configured vendor plugins, embedded as deno compile embeds them.
  if (!await generateOrSay()) return 1;
  const buildOnly = args.includes("--build-only");
  const files = args.filter((a) => a !== "--build-only");
  const bin = await buildStandIn();
  say(`built ${bin}`);
  if (buildOnly) return 0;
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      "-q",
      "-P=test",
      `--config=${join(PROJECT, "deno.json")}`,
      ...(files.length > 0 ? files : blackBoxTests()),
    ],
    env: { REMOTEPROC_RUNTIME_BIN: bin },
    cwd: PROJECT,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return code;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
