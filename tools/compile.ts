/**
 * `deno task compile [TARGET...]`: builds `dist/remoteproc-runtime-<target>`
 * with `deno compile`, one self-contained binary that is both the runtime
 * and its proxy (hidden `__proxy` subcommand), with `-A` baked in (a real
 * board's /sys needs it) and the version, git commit and Deno version
 * embedded.
 *
 * `deno compile` downloads its `denort` base binary, which fails offline.
 * Set `DENORT_BIN` to a denort for the host's target, or
 * `DENORT_BIN_X86_64` / `DENORT_BIN_AARCH64` per target. A target without
 * one is reported in one line and the task fails.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { LAZY_ENTRIES } from "./bundle.ts";
import { generateOrSay } from "./plugins.ts";

/** Targets built by default. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
] as const;

const project = fileURLToPath(new URL("..", import.meta.url));

/** The binary's entry point, project-relative. */
export const ENTRY = "cli.ts";

/**
 * What `deno compile` must embed besides the static graph of
 * {@linkcode ENTRY}, project-relative: build_info.json (`--version`) and
 * every module loaded through core/util/lazy.ts (`LAZY_ENTRIES` of
 * tools/bundle.ts: the verbs, the proxy, zod and logtape behind them),
 * which it cannot see. tools/standalone.ts builds the stand-in for the
 * binary from the same list.
 */
export const INCLUDES: readonly string[] = [
  "build_info.json",
  ...LAZY_ENTRIES,
];

/**
 * Writes build_info.json (the git commit) into a project directory.
 *
 * @param dir The directory (the checkout, or the stand-in's copy).
 */
export function writeBuildInfo(dir = project): void {
  Deno.writeTextFileSync(
    join(dir, "build_info.json"),
    JSON.stringify({ commit: gitCommit() }) + "\n",
  );
}

/**
 * The arguments of `deno compile` for one target.
 *
 * @param target An LLVM target triple.
 * @param output The binary to write.
 * @returns Arguments after the `deno` executable.
 */
export function compileArgs(target: string, output: string): string[] {
  return [
    "compile",
    "-q",
    "-A",
    `--config=${join(project, "deno.json")}`,
    `--target=${target}`,
    ...INCLUDES.map((m) => `--include=${join(project, m)}`),
    `--output=${output}`,
    join(project, ENTRY),
  ];
}
const say = (line: string) =>
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));

/**
 * The denort binary to use for a target, from the environment.
 *
 * @param target An LLVM target triple.
 * @returns A path, or undefined when none is configured.
 */
export function denortFor(target: string): string | undefined {
  const arch = target.split("-")[0]!.toUpperCase();
  const specific = Deno.env.get(`DENORT_BIN_${arch}`);
  if (specific) return specific;
  return target === Deno.build.target
    ? Deno.env.get("DENORT_BIN") || undefined
    : undefined;
}

function gitCommit(): string {
  try {
    const out = new Deno.Command("git", {
      args: ["rev-parse", "--short=12", "HEAD"],
      cwd: project,
      stderr: "null",
    })
      .outputSync();
    return out.success
      ? new TextDecoder().decode(out.stdout).trim()
      : "unknown";
  } catch {
    return "unknown";
  }
}

async function main(): Promise<number> {
  // The configured vendor plugins, imported statically by the registry.
  if (!await generateOrSay()) return 1;
  const targets = Deno.args.length > 0 ? Deno.args : [...TARGETS];
  writeBuildInfo();
  Deno.mkdirSync(join(project, "dist"), { recursive: true });
  let failures = 0;
  for (const target of targets) {
    const denort = denortFor(target);
    if (!denort) {
      say(
        `compile ${target}: no denort binary: deno compile would download one, which this machine cannot; set DENORT_BIN (host target) or DENORT_BIN_${
          target.split("-")[0]!.toUpperCase()
        }`,
      );
      failures++;
      continue;
    }
    const output = join(project, "dist", `remoteproc-runtime-${target}`);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: compileArgs(target, output),
      env: { DENORT_BIN: denort },
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (code !== 0) {
      say(`compile ${target}: deno compile failed (exit ${code})`);
      failures++;
    } else {
      say(`built ${output}`);
    }
  }
  return failures === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
