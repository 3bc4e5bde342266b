/**
 * Measuring helpers for the benchmarks: statistics, running the CLI and the
 * empty-script baseline with the same permission flags, a simulator
 * environment, and readers for `/proc/<pid>/stat` and `smaps_rollup`.
 *
 * Every CLI run goes through `bin/remoteproc-runtime` with stdout and stderr
 * on /dev/null (the proxy `create` spawns inherits them and never closes a
 * pipe), exactly as an engine would call it.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import type { ProcessorSpec, Simulator } from "../sim/simulator.ts";
import { type Env, list, setUp } from "../tests/helpers/harness.ts";
import { makeElf } from "../fixtures/make_elf.ts";
import { readyPid } from "../core/proxy/files.ts";
export { list };

/** The checkout. */
export const PROJECT = fileURLToPath(new URL("..", import.meta.url)).replace(
  /\/$/,
  "",
);
/** bin/remoteproc-runtime. */
export const LAUNCHER = join(PROJECT, "bin/remoteproc-runtime");
/** The deno the launcher runs. */
export const DENO = join(PROJECT, "node_modules/deno/deno");
/** The DENO_DIR the launcher uses (V8 code cache lives here). */
export const DENO_DIR = join(PROJECT, ".cache/deno");
/** An empty script: the baseline every latency is divided by. */
export const EMPTY_SCRIPT = join(PROJECT, "bench/fixtures/empty.ts");
/** A script that only idles on a timer: the floor for proxy CPU/memory. */
export const IDLE_SCRIPT = join(PROJECT, "bench/fixtures/idle.ts");

/**
 * Median of a sample.
 *
 * @param xs Values (not modified).
 * @returns The median, NaN when empty.
 */
export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/**
 * A quantile by linear interpolation.
 *
 * @param xs Values (not modified).
 * @param q Between 0 and 1.
 * @returns The quantile, NaN when empty.
 */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export { sleep } from "../core/util/poll.ts";

/** A timed process run. */
export interface Timed {
  /** Exit code. */
  code: number;
  /** Wall time from spawn to exit, ms. */
  ms: number;
}

/**
 * Runs a command with stdio on /dev/null and times it.
 *
 * @param exe Executable.
 * @param args Arguments.
 * @param env Environment additions.
 * @returns Exit code and wall time.
 */
export async function timed(
  exe: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Timed> {
  const command = new Deno.Command(exe, {
    args,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  });
  const t0 = performance.now();
  const { code } = await command.output();
  return { code, ms: performance.now() - t0 };
}

/** Options of {@linkcode setUpBench}. */
export interface BenchEnvOptions {
  /** Processors (default one `p0`, recovery disabled). */
  processors?: ProcessorSpec[];
}

/** A simulator plus the commands the benchmarks time. */
export interface BenchEnv {
  /** The test harness's environment underneath. */
  harness: Env;
  sim: Simulator;
  tmp: string;
  sysroot: string;
  /** The default state root for the sysroot. */
  stateRoot: string;
  /** Runs the CLI through the launcher (sysroot in the environment). */
  cli(args: string[]): Promise<Timed>;
  /** Runs the CLI and returns its stdout (no proxy may be spawned). */
  cliOutput(args: string[]): Promise<{ code: number; stdout: string }>;
  /** The empty script with the launcher's exact flags for this sysroot. */
  empty(): Promise<Timed>;
  /** Deno command line of a script under the launcher's flags. */
  denoArgs(script: string): string[];
  /** Makes a bundle for processor `name` with firmware of `size` bytes. */
  bundle(name: string, size?: number): string;
  /** Path of a container's proxy lock. */
  lockPath(id: string): string;
  close(): Promise<void>;
}

/**
 * Sets up a simulator (default one processor `p0`, recovery disabled) with
 * the test harness (tests/helpers/harness.ts) and adds the timed commands.
 *
 * @param options Processors.
 * @returns The environment; `close()` tears it down.
 */
export async function setUpBench(
  options: BenchEnvOptions = {},
): Promise<BenchEnv> {
  const base = await setUp(
    options.processors ?? [{ name: "p0", recovery: "disabled" }],
    { prefix: "rprt-bench-" },
  );
  const { sim, tmp, sysroot, root: stateRoot } = base;
  const cliEnv = {
    REMOTEPROC_RUNTIME_SYSROOT: sysroot,
    DENO_NO_UPDATE_CHECK: "1",
  };
  const denoEnv = { DENO_DIR, DENO_NO_UPDATE_CHECK: "1" };
  const env: BenchEnv = {
    harness: base,
    sim,
    tmp,
    sysroot,
    stateRoot,
    cli: (args) => timed(LAUNCHER, args, cliEnv),
    async cliOutput(args) {
      const out = await new Deno.Command(LAUNCHER, {
        args,
        env: cliEnv,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      return {
        code: out.code,
        stdout: new TextDecoder().decode(out.stdout) +
          new TextDecoder().decode(out.stderr),
      };
    },
    empty: () => timed(DENO, env.denoArgs(EMPTY_SCRIPT), denoEnv),
    denoArgs: (script) => [
      "run",
      "-q",
      "--no-prompt",
      `--config=${PROJECT}/deno.json`,
      "-P=sysroot",
      `--allow-write=${sysroot}`,
      script,
    ],
    bundle: (name, size = 16) =>
      base.bundle({
        annotations: { "remoteproc.name": name },
        files: { "fw.elf": makeElf({ size }) },
      }),
    lockPath: (id) => join(containerDir(env, id), "proxy.lock"),
    close: () => base.close(),
  };
  return env;
}

/**
 * The state directory of a container (`<stateRoot>/containers/<id>`).
 *
 * @param env The environment.
 * @param id The container id.
 * @returns The directory.
 */
export function containerDir(env: BenchEnv, id: string): string {
  return env.harness.containerDir(id);
}

/**
 * Container directories under the state root.
 *
 * @param env The environment.
 * @returns Their names.
 */
export function containers(env: BenchEnv): string[] {
  return env.harness.containers();
}

/**
 * Waits until the holder of a lock releases it (the proxy has exited),
 * blocking in the kernel's flock (no polling, no CPU) on a helper thread.
 * The lock is dropped again at once.
 *
 * @param path The lock file.
 * @param timeoutMs Give up after this long.
 * @returns Milliseconds waited.
 */
export async function waitReleased(
  path: string,
  timeoutMs = 10_000,
): Promise<number> {
  const t0 = performance.now();
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch {
    return 0; // no lock file: nothing holds it
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      file.lock(true),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`lock ${path} held after ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
    return performance.now() - t0;
  } finally {
    clearTimeout(timer);
    file.close(); // also drops the lock
  }
}

/**
 * The pid a container's proxy wrote in `proxy.ready`.
 *
 * @param env The environment.
 * @param id Container id.
 * @returns The pid.
 */
export function proxyPid(env: BenchEnv, id: string): number {
  const pid = readyPid(containerDir(env, id));
  if (pid === undefined) throw new Error(`${id}: no proxy.ready`);
  return pid;
}

/**
 * CPU time (user + system) of a process, in clock ticks.
 *
 * @param pid The process.
 * @returns utime + stime from /proc/<pid>/stat.
 */
export function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // comm may contain spaces: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return Number(fields[11]) + Number(fields[12]);
}

/** Clock ticks per second (USER_HZ; 100 on Linux). */
export const CLK_TCK = 100;

/** Memory of a process from smaps_rollup, in KiB. */
export interface Memory {
  rss: number;
  pss: number;
  /** Private_Clean + Private_Dirty (USS). */
  uss: number;
  privateClean: number;
  privateDirty: number;
}

/**
 * Reads `/proc/<pid>/smaps_rollup`.
 *
 * @param pid The process.
 * @returns Its memory figures in KiB.
 */
export function memory(pid: number): Memory {
  const text = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Number(m[1]) : 0;
  };
  const privateClean = field("Private_Clean");
  const privateDirty = field("Private_Dirty");
  return {
    rss: field("Rss"),
    pss: field("Pss"),
    uss: privateClean + privateDirty,
    privateClean,
    privateDirty,
  };
}

/**
 * Open descriptors of this process.
 *
 * @returns How many entries /proc/self/fd has.
 */
export function openFds(): number {
  return list("/proc/self/fd").length;
}

/**
 * Pids of live processes whose command line mentions `needle`.
 *
 * @param needle A substring (e.g. a temp dir).
 * @returns Matching pids, this process excluded.
 */
export function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const name of list("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === Deno.pid) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${name}/cmdline`);
      if (cmd.includes(needle)) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * Whether a process exists and is not a zombie.
 *
 * @param pid The process.
 * @returns False once it has exited.
 */
export function processAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !==
      "Z";
  } catch {
    return false;
  }
}
