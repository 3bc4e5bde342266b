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
import { ENTRIES, PROXY_ENTRY } from "./bundle.ts";
import { generateOrSay } from "./plugins.ts";

/** Targets built by default. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
] as const;

const project = fileURLToPath(new URL("..", import.meta.url));

/**
 * Modules loaded through core/util/lazy.ts (the verbs, the proxy, zod,
 * logtape): the bundle's entries.
 */
const LAZY_MODULES = [...ENTRIES.filter((e) => e !== "cli.ts"), PROXY_ENTRY];
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
  Deno.writeTextFileSync(
    join(project, "build_info.json"),
    JSON.stringify({ commit: gitCommit() }) + "\n",
  );
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
      args: [
        "compile",
        "-q",
        "-A",
        `--config=${join(project, "deno.json")}`,
        `--target=${target}`,
        `--include=${join(project, "build_info.json")}`,
        // Loaded by core/util/lazy.ts, which deno compile cannot see through.
        ...LAZY_MODULES.map((m) => `--include=${join(project, m)}`),
        `--output=${output}`,
        join(project, "cli.ts"),
      ],
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
