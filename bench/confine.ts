/**
 * What Landlock self-confinement costs a verb: runs `state` (against an
 * empty simulator tree) N times under the narrow `sysroot` permission set,
 * confined (FFI allowed) and unconfined (`--deny-ffi`, which skips it after
 * one warning), and prints the medians; then the in-process cost the verb
 * logs with `--debug` (FFI load + ruleset + restrict_self).
 *
 * Usage: `deno run -A bench/confine.ts [runs]`
 *
 * @module
 */
import { fileURLToPath } from "node:url";

const runs = Number(Deno.args[0] ?? 30);
const project = fileURLToPath(new URL("..", import.meta.url));
const sysroot = Deno.makeTempDirSync({ prefix: "rprt-bench-" });
Deno.mkdirSync(`${sysroot}/sys/class/remoteproc`, { recursive: true });

function command(extra: string[], verbArgs: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      "--no-prompt",
      `--config=${project}deno.json`,
      "-P=sysroot",
      `--allow-write=${sysroot}`,
      ...extra,
      `${project}cli.ts`,
      `--sysroot=${sysroot}`,
      ...verbArgs,
    ],
    env: { DENO_DIR: `${project}.cache/deno` },
    stdout: "null",
    stderr: "piped",
  });
}

async function median(extra: string[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await command(extra, ["list"]).output();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

await median([]); // warm the cache
const confined = await median([]);
const unconfined = await median(["--deny-ffi"]);
const inProcess: number[] = [];
for (let i = 0; i < runs; i++) {
  const out = await command([], ["--debug", "list"]).output();
  const match = /confined at ABI \d+ in ([\d.]+) ms/.exec(
    new TextDecoder().decode(out.stderr),
  );
  if (match) inProcess.push(Number(match[1]));
}
inProcess.sort((a, b) => a - b);
Deno.removeSync(sysroot, { recursive: true });
const fmt = (n: number) => `${n.toFixed(1)} ms`;
const say = (line: string) =>
  Deno.stdout.writeSync(new TextEncoder().encode(`${line}\n`));
say(`list, median of ${runs} runs:`);
say(`  confined (Landlock)   ${fmt(confined)}`);
say(`  unconfined            ${fmt(unconfined)}`);
say(`  difference            ${fmt(confined - unconfined)}`);
say(
  `  in-process confine()  ${
    fmt(inProcess[Math.floor(inProcess.length / 2)] ?? NaN)
  } (FFI load, ruleset, restrict_self; from --debug)`,
);
