/**
 * `deno task bench [--quick] [--only=a,b]`: measures the runtime against the
 * simulator and prints a table; writes `bench/results.json`.
 *
 * Every figure is a ratio measured side by side in one run: CLI latencies
 * are divided by an empty `deno run` script started with the launcher's
 * exact flags, interleaved run by run so that the machine's noise hits both
 * alike. See BENCHMARKS.md for what each figure means.
 *
 * Sections: graph, latency, sandbox, detection, idle, memory, copy, scale,
 * soak, device-plugin.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { FakeKubelet } from "../tests/helpers/kubelet.ts";
import { join } from "node:path";
import {
  type BenchEnv,
  CLK_TCK,
  containers,
  cpuTicks,
  DENO,
  DENO_DIR,
  IDLE_SCRIPT,
  LAUNCHER,
  list,
  median,
  type Memory,
  memory,
  openFds,
  processAlive,
  processesMentioning,
  PROJECT,
  proxyPid,
  quantile,
  setUpBench,
  sleep,
  timed,
  waitReleased,
} from "./lib.ts";
import { storeFirmware } from "../core/firmware/store.ts";
import { proxyCommand } from "../core/proxy/spawn.ts";
import { isReady, readStartResult } from "../core/proxy/files.ts";
import { spawnSession } from "../core/os/libc.ts";
import { POLL_MS, PROXY_SIGNALS, proxyArgs } from "../core/proxy/protocol.ts";
import {
  DEFAULT_START_POLICY,
  DEFAULT_STOP_POLICY,
} from "../core/plugin/types.ts";
import { openFirmwareSource, rootfsIdentity } from "../core/firmware/rootfs.ts";

/** One row of the table. */
interface Figure {
  section: string;
  name: string;
  /** Measured value, formatted. */
  measured: string;
  /** The target, as text. */
  target: string;
  /** Whether the target is met; undefined for information only. */
  ok: boolean | undefined;
  /** The numbers behind it. */
  detail: Record<string, unknown>;
}

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    out: { type: "string", default: join(PROJECT, "bench/results.json") },
    // Replace only the sections run now in an existing results file.
    merge: { type: "boolean", default: false },
  },
});
const quick = flags.quick;
const only = flags.only?.split(",");
const figures: Figure[] = [];
const encoder = new TextEncoder();

function log(line: string): void {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
}

function add(figure: Figure): void {
  figures.push(figure);
  const mark = figure.ok === undefined ? " " : figure.ok ? "ok" : "MISS";
  log(`  ${mark.padEnd(4)} ${figure.name}: ${figure.measured}`);
}

function x(value: number): string {
  return `${value.toFixed(2)}x`;
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

function mib(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

async function must(
  what: string,
  run: Promise<{ code: number; ms: number }>,
): Promise<number> {
  const result = await run;
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}`);
  return result.ms;
}

// ---------------------------------------------------------------------------
// graph: what each verb loads at run time from the bundle the launcher runs
// (dist/js, `deno task bundle`): the static import closure of cli.js plus
// the verb's entry (everything else is loaded through core/util/lazy.ts), and
// the source modules in those files (esbuild marks each with a comment).

function bundleClosure(entries: string[]): {
  files: string[];
  bytes: number;
  sources: string[];
  nodeImports: string[];
} {
  const root = `${PROJECT}/dist/js/`;
  const files = new Set<string>();
  const sources = new Set<string>();
  const nodeImports = new Set<string>();
  let bytes = 0;
  const walk = (path: string) => {
    if (files.has(path)) return;
    files.add(path);
    const text = Deno.readTextFileSync(root + path);
    bytes += text.length;
    for (const m of text.matchAll(/^\/\/ (\S+\.(?:ts|js|mjs|cjs))$/gm)) {
      sources.add(m[1]!);
    }
    for (const m of text.matchAll(/(?:from|import)\s*"([^"]+)"/g)) {
      const spec = m[1]!;
      if (spec.startsWith("node:")) nodeImports.add(spec);
      else if (spec.startsWith(".")) {
        walk(new URL(spec, `file:///${path}`).pathname.slice(1));
      }
    }
  };
  for (const entry of entries) walk(entry);
  return {
    files: [...files],
    bytes,
    sources: [...sources],
    nodeImports: [...nodeImports],
  };
}

function graph(): Promise<void> {
  const rows: Record<string, string[]> = {
    state: ["cli.js", "cli/state.js"],
    kill: ["cli.js", "cli/kill.js"],
    delete: ["cli.js", "cli/delete.js"],
    start: ["cli.js", "cli/start.js"],
    create: ["cli.js", "cli/create.js"],
    proxy: ["proxy.js"],
  };
  for (const [name, entries] of Object.entries(rows)) {
    const c = bundleClosure(entries);
    const heavy = {
      zod: c.sources.some((m) => m.includes("node_modules/zod")),
      logtape: c.sources.some((m) => m.includes("logtape")),
      "node:": c.nodeImports.length > 0,
    };
    const mustBeLight = name === "state" || name === "kill" ||
      name === "proxy";
    add({
      section: "graph",
      name: `bundle loaded by ${
        name === "proxy" ? "the proxy" : `\`${name}\``
      }`,
      measured: `${c.files.length} files, ${
        (c.bytes / 1024).toFixed(0)
      } KiB, ${c.sources.length} source modules; ${
        Object.entries(heavy).map(([h, yes]) => `${h} ${yes ? "yes" : "no"}`)
          .join(", ")
      }`,
      target: mustBeLight ? "no zod, no logtape, no node:" : "",
      ok: mustBeLight
        ? !heavy.zod && !heavy.logtape && !heavy["node:"]
        : undefined,
      detail: c,
    });
  }
  return Promise.resolve();
}

// ---------------------------------------------------------------------------
// latency: each verb vs the empty script, interleaved; then whole lifecycles
// back to back vs four empty runs.

async function latency(): Promise<void> {
  const env = await setUpBench();
  const rounds = quick ? 8 : 40;
  const warm = 2;
  const verbs = ["create", "start", "state", "kill", "delete"] as const;
  const t: Record<string, number[]> = { empty: [], lifecycle: [], empty4: [] };
  for (const v of verbs) t[v] = [];
  const ratios: Record<string, number[]> = { lifecycle: [] };
  for (const v of verbs) ratios[v] = [];
  try {
    const bundle = env.bundle("p0");
    for (let i = 0; i < rounds + warm; i++) {
      const id = `lat${i}`;
      const sample: Record<string, number> = {};
      const empties: number[] = [];
      for (const verb of verbs) {
        empties.push(await must("empty", env.empty()));
        const args = verb === "create" ? ["create", "--bundle", bundle, id] : [
          verb,
          id,
        ];
        sample[verb] = await must(verb, env.cli(args));
        if (verb === "kill") await waitReleased(env.lockPath(id));
      }
      // A lifecycle back to back, then four empty runs.
      const lid = `life${i}`;
      const t0 = performance.now();
      await must("create", env.cli(["create", "--bundle", bundle, lid]));
      await must("start", env.cli(["start", lid]));
      await must("kill", env.cli(["kill", lid]));
      await waitReleased(env.lockPath(lid));
      await must("delete", env.cli(["delete", lid]));
      const life = performance.now() - t0;
      let four = 0;
      for (let k = 0; k < 4; k++) four += await must("empty", env.empty());
      if (i < warm) continue;
      const empty = median(empties);
      t.empty!.push(...empties);
      for (const verb of verbs) {
        t[verb]!.push(sample[verb]!);
        ratios[verb]!.push(sample[verb]! / empty);
      }
      t.lifecycle!.push(life);
      t.empty4!.push(four);
      ratios.lifecycle!.push(life / four);
    }
    if (env.sim.violations.length > 0) {
      throw new Error(`simulator violations: ${env.sim.violations}`);
    }
  } finally {
    await env.close();
  }
  const empty = median(t.empty!);
  const targets: Record<string, number> = {
    state: 1.5,
    kill: 1.5,
    delete: 1.5,
    create: 2.5,
    start: 2.5,
  };
  add({
    section: "latency",
    name: "empty `deno run` (baseline, same flags)",
    measured: ms(empty),
    target: "",
    ok: undefined,
    detail: { medianMs: empty, minMs: Math.min(...t.empty!), samples: t.empty },
  });
  for (const verb of ["state", "kill", "delete", "create", "start"]) {
    const ratio = median(t[verb]!) / empty;
    add({
      section: "latency",
      name: `\`${verb}\` vs empty run`,
      measured: `${x(ratio)} (${ms(median(t[verb]!))})`,
      target: `<= ${targets[verb]}x`,
      ok: ratio <= targets[verb]!,
      detail: {
        ratioOfMedians: ratio,
        medianOfRatios: median(ratios[verb]!),
        ratioOfMinimums: Math.min(...t[verb]!) / Math.min(...t.empty!),
        medianMs: median(t[verb]!),
        samples: t[verb],
      },
    });
  }
  const life = median(t.lifecycle!) / median(t.empty4!);
  add({
    section: "latency",
    name: "lifecycle create->start->kill->delete vs 4 empty runs",
    measured: `${x(life)} (${ms(median(t.lifecycle!))} vs ${
      ms(median(t.empty4!))
    })`,
    target: "<= 2x",
    ok: life <= 2,
    detail: {
      ratioOfMedians: life,
      medianOfRatios: median(ratios.lifecycle!),
      lifecycleMs: t.lifecycle,
      fourEmptyMs: t.empty4,
    },
  });
}

// ---------------------------------------------------------------------------
// sandbox: a pod sandbox's placeholder (core/ops/sandbox.ts) must cost no more
// to create and start than a firmware container: both measured in turn,
// round by round.

async function sandbox(): Promise<void> {
  const env = await setUpBench();
  const rounds = quick ? 8 : 30;
  const warm = 2;
  const t: Record<"firmware" | "placeholder", number[]> = {
    firmware: [],
    placeholder: [],
  };
  try {
    const firmware = env.bundle("p0");
    const pod = join(env.tmp, "pod-bundle");
    Deno.mkdirSync(join(pod, "rootfs"), { recursive: true });
    Deno.writeTextFileSync(
      join(pod, "config.json"),
      JSON.stringify({
        ociVersion: "1.0.2",
        process: { args: ["/pause"], cwd: "/", terminal: false },
        root: { path: "rootfs" },
        annotations: {
          "io.kubernetes.cri.container-type": "sandbox",
          "remoteproc.name": "p0",
        },
      }),
    );
    for (let i = 0; i < rounds + warm; i++) {
      for (const kind of ["firmware", "placeholder"] as const) {
        const id = `${kind}${i}`;
        const bundle = kind === "firmware" ? firmware : pod;
        const took =
          await must("create", env.cli(["create", "-b", bundle, id])) +
          await must("start", env.cli(["start", id]));
        await must("kill", env.cli(["kill", id]));
        await waitReleased(env.lockPath(id));
        await must("delete", env.cli(["delete", id]));
        if (i >= warm) t[kind].push(took);
      }
    }
  } finally {
    await env.close();
  }
  const ratio = median(t.placeholder) / median(t.firmware);
  add({
    section: "sandbox",
    name: "pod sandbox placeholder create+start vs a firmware container's",
    measured: `${x(ratio)} (${ms(median(t.placeholder))} vs ${
      ms(median(t.firmware))
    })`,
    target: "<= 1x",
    ok: ratio <= 1,
    detail: { ratioOfMedians: ratio, ...t },
  });
}

// ---------------------------------------------------------------------------
// detection: the simulator flips `state` (crash or external stop); time
// until the proxy's lock is released (it has exited).

async function detection(): Promise<void> {
  const env = await setUpBench();
  const samples = quick ? 10 : 60;
  const crash: number[] = [];
  const stop: number[] = [];
  const exits: number[] = [];
  try {
    const bundle = env.bundle("p0");
    for (let i = 0; i < samples; i++) {
      const id = `det${i}`;
      await must("create", env.cli(["create", "--bundle", bundle, id]));
      await must("start", env.cli(["start", id]));
      await sleep(20 + (i * 37) % POLL_MS); // land anywhere in the poll period
      const lock = env.lockPath(id);
      const pid = proxyPid(env, id);
      const kind = i % 2 === 0 ? crash : stop;
      const t0 = performance.now();
      if (kind === crash) env.sim.crash(0);
      else env.sim.stopExternally(0);
      await waitReleased(lock, 5_000);
      kind.push(performance.now() - t0);
      while (processAlive(pid)) {
        if (performance.now() - t0 > 5_000) throw new Error("proxy lives on");
        await sleep(1);
      }
      exits.push(performance.now() - t0);
      await must("delete", env.cli(["delete", id]));
    }
  } finally {
    await env.close();
  }
  const all = [...crash, ...stop];
  const med = median(all);
  const p95 = quantile(all, 0.95);
  add({
    section: "detection",
    name: `crash/stop detection, ${all.length} samples (median / p95)`,
    measured: `${ms(med)} / ${ms(p95)} (process gone: ${ms(median(exits))} / ${
      ms(quantile(exits, 0.95))
    })`,
    target: "<= 50 ms / <= 100 ms",
    ok: med <= 50 && p95 <= 100,
    detail: {
      medianMs: med,
      p95Ms: p95,
      maxMs: Math.max(...all),
      exitMedianMs: median(exits),
      exitP95Ms: quantile(exits, 0.95),
      exitMs: exits,
      crashMedianMs: median(crash),
      stopMedianMs: median(stop),
      crashMs: crash,
      stopMs: stop,
    },
  });
}

// ---------------------------------------------------------------------------
// idle + memory: a running proxy (from create/start) next to an idle Deno
// script with the same flags (the floor), over a window.

async function idleAndMemory(doIdle: boolean, doMemory: boolean) {
  const env = await setUpBench();
  const windowS = quick ? 10 : 60;
  try {
    const bundle = env.bundle("p0");
    await must("create", env.cli(["create", "--bundle", bundle, "idle"]));
    await must("start", env.cli(["start", "idle"]));
    const pid = proxyPid(env, "idle");
    const floor = new Deno.Command(DENO, {
      args: [...env.denoArgs(IDLE_SCRIPT), String(POLL_MS)],
      env: { DENO_DIR, DENO_NO_UPDATE_CHECK: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await sleep(1_000); // past start-up
      // Private memory moves with the garbage collector's rhythm: sample it
      // six times across the window and take the median of each.
      const proxyUss: number[] = [];
      const floorUss: number[] = [];
      let proxy = memory(pid);
      let base = memory(floor.pid);
      const a0 = cpuTicks(pid);
      const b0 = cpuTicks(floor.pid);
      const t0 = performance.now();
      for (let i = 0; i < 6; i++) {
        await sleep((doIdle ? windowS : 6) * 1_000 / 6);
        proxy = memory(pid);
        base = memory(floor.pid);
        proxyUss.push(proxy.uss);
        floorUss.push(base.uss);
      }
      if (doIdle) {
        const seconds = (performance.now() - t0) / 1_000;
        const proxyPct = (cpuTicks(pid) - a0) / CLK_TCK / seconds * 100;
        const floorPct = (cpuTicks(floor.pid) - b0) / CLK_TCK / seconds * 100;
        add({
          section: "idle",
          name:
            `proxy idle CPU over ${windowS} s, ${POLL_MS} ms poll (% of one core)`,
          measured: `${proxyPct.toFixed(3)} % (idle deno: ${
            floorPct.toFixed(3)
          } %)`,
          target: "<= 0.5 %",
          ok: proxyPct <= 0.5,
          detail: { proxyPct, idleDenoPct: floorPct, seconds },
        });
      }
      if (doMemory) {
        const uss = median(proxyUss);
        add({
          section: "memory",
          name: "proxy USS (Private_Clean+Private_Dirty), median of 6 samples",
          measured: `${mib(uss)} (idle deno: ${mib(median(floorUss))}; RSS ${
            mib(proxy.rss)
          })`,
          target: "<= 12 MiB",
          ok: uss <= 12 * 1024,
          detail: {
            proxyUssKiB: proxyUss,
            idleDenoUssKiB: floorUss,
            lastProxyKiB: proxy,
            lastIdleDenoKiB: base,
          },
        });
      }
    } finally {
      floor.kill("SIGKILL");
      await floor.status;
    }
    await must("kill", env.cli(["kill", "idle"]));
    await waitReleased(env.lockPath("idle"));
    await must("delete", env.cli(["delete", "idle"]));
    if (doMemory) await memoryVariants(env);
  } finally {
    await env.close();
  }
}

/** The proxy started by hand under candidate V8 flags / environments. */
async function memoryVariants(env: BenchEnv): Promise<void> {
  const variants: Array<[string, string[], Record<string, string>]> = [
    ["as shipped", [], {}],
    ["--single-threaded", ["--v8-flags=--single-threaded"], {}],
    ["--lite-mode", ["--v8-flags=--lite-mode"], {}],
    ["--jitless", ["--v8-flags=--jitless"], {}],
    [
      "--max-old-space-size=16,--max-semi-space-size=1",
      ["--v8-flags=--max-old-space-size=16,--max-semi-space-size=1"],
      {},
    ],
    ["MALLOC_ARENA_MAX=1", [], { MALLOC_ARENA_MAX: "1" }],
  ];
  Deno.writeTextFileSync(join(env.sysroot, "lib/firmware/rproc-p0-fw"), "fw");
  const device = env.sim.classDir(0);
  Deno.writeTextFileSync(join(device, "firmware"), "rproc-p0-fw");
  await sleep(50); // the simulator takes it
  const rows: Record<string, Memory & { cpuPct: number }> = {};
  for (const [name, extra, vars] of variants) {
    const dir = join(env.tmp, `variant-${Object.keys(rows).length}`);
    Deno.mkdirSync(dir);
    const [exe, args] = proxyCommand({
      args: proxyArgs({
        dir,
        sysroot: env.sysroot,
        device: {
          index: "remoteproc0",
          dir: device,
          name: "p0",
          driver: undefined,
          compatible: [],
        },
        pollMs: POLL_MS,
        start: DEFAULT_START_POLICY,
        stop: DEFAULT_STOP_POLICY,
        stateAliases: {},
      }),
      writable: [env.sysroot, dir],
    });
    // Variant flags go right after `run` (they replace any shipped ones).
    const argv = extra.length === 0 ? args : [
      args[0]!,
      ...extra,
      ...args.slice(1).filter((a) => !a.startsWith("--v8-flags=")),
    ];
    // Spawned as `create` does: in a session, its signals blocked (the
    // proxy then sleeps on its signalfd). The child takes our environment.
    const saved = Deno.env.toObject();
    for (const [k, v] of Object.entries({ DENO_DIR, ...vars })) {
      Deno.env.set(k, v);
    }
    // (sh keeps the mask across its exec and sends the output away.)
    const child = spawnSession(
      "/bin/sh",
      ["-c", 'exec "$@" >/dev/null 2>&1', "sh", exe, ...argv],
      { blockSignals: PROXY_SIGNALS },
    );
    for (const k of Object.keys(vars)) {
      if (saved[k] === undefined) Deno.env.delete(k);
      else Deno.env.set(k, saved[k]);
    }
    if (child === undefined) throw new Error("no FFI for posix_spawn");
    const exited = async () => {
      while (child.exited() === undefined) await sleep(5);
    };
    try {
      const deadline = performance.now() + 10_000;
      while (!isReady(dir)) {
        if (performance.now() > deadline) throw new Error(`${name}: no ready`);
        await sleep(5);
      }
      Deno.kill(child.pid, "SIGUSR1");
      while (readStartResult(dir) === undefined) {
        if (performance.now() > deadline) throw new Error(`${name}: no start`);
        await sleep(5);
      }
      await sleep(quick ? 1_000 : 3_000);
      const c0 = cpuTicks(child.pid);
      const t0 = performance.now();
      await sleep(quick ? 1_000 : 5_000);
      const cpuPct = (cpuTicks(child.pid) - c0) / CLK_TCK /
        ((performance.now() - t0) / 1_000) * 100;
      rows[name] = { ...memory(child.pid), cpuPct };
      log(
        `       variant ${name}: USS ${mib(rows[name].uss)}, dirty ${
          mib(rows[name].privateDirty)
        }, cpu ${cpuPct.toFixed(2)} %`,
      );
      Deno.kill(child.pid, "SIGTERM");
      await exited();
    } finally {
      if (child.exited() === undefined) Deno.kill(child.pid, "SIGKILL");
      await exited();
    }
  }
  add({
    section: "memory",
    name: "proxy USS by V8 flags / malloc arenas (information)",
    measured: Object.entries(rows).map(([k, v]) => `${k}: ${mib(v.uss)}`)
      .join("; "),
    target: "",
    ok: undefined,
    detail: rows,
  });
}

// ---------------------------------------------------------------------------
// copy: the store step `start` runs (core/firmware/rootfs.ts openFirmwareSource and
// core/firmware/store.ts storeFirmware) vs cp
// of the same 64 MiB file into the same directory.

async function copy(): Promise<void> {
  const env = await setUpBench();
  const rounds = quick ? 4 : 12;
  const size = 64 * 1024 * 1024;
  const ours: number[] = [];
  const cp: number[] = [];
  const startBig: number[] = [];
  const startSmall: number[] = [];
  try {
    const big = env.bundle("p0", size);
    const small = env.bundle("p0");
    const source = join(big, "rootfs/fw.elf");
    const fwDir = join(env.sysroot, "lib/firmware");
    Deno.readFileSync(source); // into the page cache
    for (let i = 0; i < rounds + 1; i++) {
      const t0 = performance.now();
      const opened = openFirmwareSource(
        join(big, "rootfs"),
        source,
        rootfsIdentity(join(big, "rootfs")),
      );
      const stored = storeFirmware(opened, fwDir, `ours-${i}.elf`);
      opened.close();
      const dt = performance.now() - t0;
      Deno.removeSync(stored);
      const target = join(fwDir, `cp-${i}.elf`);
      const c = await must("cp", timed("/bin/cp", [source, target]));
      Deno.removeSync(target);
      if (i === 0) continue;
      ours.push(dt);
      cp.push(c);
    }
    // End to end: `start` with the 64 MiB image minus `start` with a tiny one.
    for (let i = 0; i < Math.max(3, rounds / 2); i++) {
      for (const [b, into] of [[big, startBig], [small, startSmall]] as const) {
        const id = `copy${i}-${into === startBig ? "big" : "small"}`;
        await must("create", env.cli(["create", "--bundle", b, id]));
        into.push(await must("start", env.cli(["start", id])));
        await must("delete", env.cli(["delete", "--force", id]));
      }
    }
  } finally {
    await env.close();
  }
  const ratio = median(cp) / median(ours);
  const delta = median(startBig) - median(startSmall);
  add({
    section: "copy",
    name: "firmware copy 64 MiB: throughput vs cp",
    measured: `${x(ratio)} (store ${ms(median(ours))}, cp ${
      ms(median(cp))
    }; start 64 MiB - start 16 B = ${ms(delta)})`,
    target: ">= 0.8x",
    ok: ratio >= 0.8,
    detail: {
      ratio,
      storeMs: ours,
      cpMs: cp,
      startBigMs: startBig,
      startSmallMs: startSmall,
      endToEndRatio: median(cp) / delta,
      mibPerSecond: 64 / (median(ours) / 1_000),
    },
  });
}

// ---------------------------------------------------------------------------
// scale: N containers on N processors, each phase run concurrently.

async function scale(): Promise<void> {
  const sizes = quick ? [1, 8] : [1, 8, 64];
  const max = sizes[sizes.length - 1]!;
  const env = await setUpBench({
    processors: Array.from({ length: max }, (_, n) => ({
      name: `p${n}`,
      recovery: "disabled" as const,
    })),
  });
  // Each size is run `reps` times, the sizes interleaved; ratios are of
  // the medians (a lone N=8 round of ~3 s is at the mercy of the machine).
  const reps = quick ? 1 : 3;
  const samples: Record<number, number[]> = {};
  const floorSamples: Record<number, number[]> = {};
  const phases: Record<number, Record<string, number>[]> = {};
  // CPU time of the whole machine (all processes, proxies included) per
  // container and phase: what contention costs as N grows.
  const cpu: Record<number, Record<string, number>[]> = {};
  let allOk = true;
  try {
    const bundles = Array.from({ length: max }, (_, n) => env.bundle(`p${n}`));
    for (let round = 0; round < reps; round++) {
      for (const n of sizes) {
        const ids = Array.from({ length: n }, (_, k) => `s${round}-${n}-${k}`);
        const phaseMs: Record<string, number> = {};
        const phaseCpu: Record<string, number> = {};
        const phase = async (
          name: string,
          run: (id: string, k: number) => Promise<unknown>,
        ) => {
          const t0 = performance.now();
          const busy0 = systemBusyMs();
          const results = await Promise.allSettled(ids.map(run));
          const failed = results.filter((r) => r.status === "rejected");
          if (failed.length > 0) {
            allOk = false;
            log(
              `       scale N=${n} ${name}: ${failed.length} failed: ${
                (failed[0] as PromiseRejectedResult).reason
              }`,
            );
          }
          phaseMs[name] = Math.round(performance.now() - t0);
          phaseCpu[name] = Math.round((systemBusyMs() - busy0) / n);
        };
        const t0 = performance.now();
        await phase(
          "create",
          (id, k) =>
            must("create", env.cli(["create", "--bundle", bundles[k]!, id])),
        );
        await phase("start", (id) => must("start", env.cli(["start", id])));
        await phase("kill", async (id) => {
          await must("kill", env.cli(["kill", id]));
          await waitReleased(env.lockPath(id), 30_000);
        });
        await phase("delete", (id) => must("delete", env.cli(["delete", id])));
        const total = performance.now() - t0;
        (samples[n] ??= []).push(total);
        (phases[n] ??= []).push(phaseMs);
        (cpu[n] ??= []).push(phaseCpu);
        if (containers(env).length > 0 || env.sim.violations.length > 0) {
          allOk = false;
        }
        log(
          `       scale N=${n}: ${ms(total)} ${
            JSON.stringify(phaseMs)
          } machine CPU ms per container ${JSON.stringify(phaseCpu)}`,
        );
        // The platform's own floor, side by side: waves of N empty `deno
        // run`s (one per phase and container: create, start, kill, delete,
        // proxy).
        const f0 = performance.now();
        for (let wave = 0; wave < 5; wave++) {
          await Promise.all(Array.from({ length: n }, () => env.empty()));
        }
        (floorSamples[n] ??= []).push(performance.now() - f0);
      }
    }
  } finally {
    await env.close();
  }
  const totals: Record<number, number> = {};
  const floor: Record<number, number> = {};
  for (const n of sizes) {
    totals[n] = median(samples[n]!);
    floor[n] = median(floorSamples[n]!);
  }
  const growth: string[] = [];
  const floorGrowth: string[] = [];
  let linear = true;
  for (let i = 1; i < sizes.length; i++) {
    const a = sizes[i - 1]!;
    const b = sizes[i]!;
    const r = totals[b]! / totals[a]!;
    growth.push(`T(${b})/T(${a}) = ${r.toFixed(2)} (linear: ${b / a})`);
    const f = floor[b]! / floor[a]!;
    floorGrowth.push(
      `${f.toFixed(2)} for empty deno runs (ours / theirs ${
        (r / f).toFixed(2)
      })`,
    );
    if (r > b / a) linear = false;
  }
  add({
    section: "scale",
    name: `scale N=${sizes.join(",")}${
      reps > 1 ? ` (median of ${reps} rounds)` : ""
    }: all succeed, time at most linear`,
    measured: `${sizes.map((n) => `N=${n} ${ms(totals[n]!)}`).join(", ")}; ${
      growth.map((g, i) => `${g}, ${floorGrowth[i]}`).join("; ")
    }${allOk ? "" : "; FAILURES"}`,
    target: "all ok; T(bN)/T(N) <= b",
    ok: allOk && linear,
    detail: {
      totalsMs: totals,
      roundsMs: samples,
      emptyWavesMs: floorSamples,
      phasesMs: phases,
      cpuMsPerContainer: cpu,
      allOk,
    },
  });
}

/** Busy CPU time of the whole machine so far (/proc/stat), ms. */
function systemBusyMs(): number {
  const cpu = Deno.readTextFileSync("/proc/stat").split("\n")[0]!.split(/\s+/)
    .slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  const total = cpu.reduce((a, b) => a + b, 0);
  return ((total - idle) * 1000) / CLK_TCK;
}

// ---------------------------------------------------------------------------
// soak: sequential lifecycles on one processor; leak checks at the end.

async function soak(): Promise<void> {
  const env = await setUpBench();
  const n = quick ? 60 : 1_000;
  const window = quick ? 20 : 100;
  const life: number[] = [];
  const empty: number[] = [];
  const fds0 = openFds();
  let leaks: Record<string, unknown> = {};
  try {
    const bundle = env.bundle("p0");
    for (let i = 0; i < n; i++) {
      const id = `soak${i}`;
      empty.push(await must("empty", env.empty()));
      const t0 = performance.now();
      await must("create", env.cli(["create", "--bundle", bundle, id]));
      await must("start", env.cli(["start", id]));
      await must("kill", env.cli(["kill", id]));
      await waitReleased(env.lockPath(id));
      await must("delete", env.cli(["delete", id]));
      life.push(performance.now() - t0);
      if ((i + 1) % 100 === 0) log(`       soak ${i + 1}/${n}`);
    }
    await sleep(100);
    leaks = {
      containers: containers(env),
      storedFirmware: list(join(env.sysroot, "lib/firmware")),
      claims: list(join(env.stateRoot, "claims")).filter((f) =>
        !f.startsWith(".")
      ),
      processes: processesMentioning(env.tmp),
      benchFdDelta: openFds() - fds0,
      violations: env.sim.violations,
      simErrors: env.sim.errors,
    };
  } finally {
    await env.close();
  }
  const clean = Object.values(leaks).every((v) =>
    Array.isArray(v) ? v.length === 0 : v === 0
  );
  const first = median(life.slice(0, window));
  const last = median(life.slice(-window));
  const norm = (from: number, to: number) =>
    median(life.slice(from, to).map((l, k) => l / empty[from + k]!));
  const drift = norm(n - window, n) / norm(0, window);
  add({
    section: "soak",
    name: `soak ${n} lifecycles: leaks; last ${window} vs first ${window}`,
    measured: `${clean ? "no leaks" : "LEAKS " + JSON.stringify(leaks)}; ${
      x(drift)
    } (raw ${ms(last)} vs ${ms(first)} = ${x(last / first)})`,
    target: "no leaks; <= 1.10x",
    ok: clean && drift <= 1.1,
    detail: {
      leaks,
      driftNormalised: drift,
      driftRaw: last / first,
      firstMs: first,
      lastMs: last,
      lifecycleMs: life,
      emptyMs: empty,
    },
  });
}

// device-plugin: the idle plugin (registered, one ListAndWatch open per
// resource, as the kubelet keeps them) next to an idle Deno script waking
// at the plugin's 1 s poll.

async function devicePlugin(): Promise<void> {
  const env = await setUpBench({
    processors: [{ name: "m4" }, { name: "dsp" }, { name: "m4" }],
  });
  const windowS = quick ? 10 : 30;
  const dir = join(env.tmp, "device-plugins");
  Deno.mkdirSync(dir);
  const kubelet = new FakeKubelet(dir);
  await kubelet.start();
  const plugin = new Deno.Command(LAUNCHER, {
    args: ["device-plugin", "--kubelet-dir", dir],
    env: { REMOTEPROC_RUNTIME_SYSROOT: env.sysroot },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const floor = new Deno.Command(DENO, {
    args: [...env.denoArgs(IDLE_SCRIPT), "1000"],
    env: { DENO_DIR, DENO_NO_UPDATE_CHECK: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  // What any gRPC server costs under Deno (its node:http2 and grpc-js).
  const grpcFloor = new Deno.Command(DENO, {
    args: [
      "run",
      "-q",
      "-A",
      join(PROJECT, "bench/fixtures/idle_grpc.ts"),
      dir,
    ],
    env: { DENO_DIR, DENO_NO_UPDATE_CHECK: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const clients = [];
  try {
    const deadline = Date.now() + 30_000;
    while (kubelet.registrations.length < 2) {
      if (Date.now() > deadline) throw new Error("the plugin did not register");
      await sleep(50);
    }
    for (const r of kubelet.registrations) {
      const client = kubelet.plugin(r.endpoint);
      clients.push([client, client.watch()] as const);
    }
    await sleep(2_000); // past start-up
    const pluginUss: number[] = [];
    const floorUss: number[] = [];
    const grpcUss: number[] = [];
    let last = memory(plugin.pid);
    const a0 = cpuTicks(plugin.pid);
    const b0 = cpuTicks(floor.pid);
    const t0 = performance.now();
    for (let i = 0; i < 6; i++) {
      await sleep(windowS * 1_000 / 6);
      last = memory(plugin.pid);
      pluginUss.push(last.uss);
      floorUss.push(memory(floor.pid).uss);
      grpcUss.push(memory(grpcFloor.pid).uss);
    }
    const seconds = (performance.now() - t0) / 1_000;
    const pct = (cpuTicks(plugin.pid) - a0) / CLK_TCK / seconds * 100;
    const floorPct = (cpuTicks(floor.pid) - b0) / CLK_TCK / seconds * 100;
    add({
      section: "device-plugin",
      name:
        `device plugin idle CPU over ${windowS} s, 3 processors, 2 resources, 1 s poll (% of one core)`,
      measured: `${pct.toFixed(3)} % (idle deno: ${floorPct.toFixed(3)} %)`,
      target: "<= 0.5 %",
      ok: pct <= 0.5,
      detail: { pluginPct: pct, idleDenoPct: floorPct, seconds },
    });
    const uss = median(pluginUss);
    const base = median(floorUss);
    const grpcBase = median(grpcUss);
    add({
      section: "device-plugin",
      name:
        "device plugin USS, median of 6 samples, vs an idle deno serving an empty gRPC server",
      measured: `${mib(uss)} (idle gRPC deno: ${mib(grpcBase)}; idle deno: ${
        mib(base)
      }; RSS ${mib(last.rss)})`,
      target: "<= idle gRPC deno + 4 MiB",
      ok: uss <= grpcBase + 4 * 1024,
      detail: {
        pluginUssKiB: pluginUss,
        idleGrpcDenoUssKiB: grpcUss,
        idleDenoUssKiB: floorUss,
      },
    });
  } finally {
    for (const [client, watch] of clients) {
      watch.cancel();
      client.close();
    }
    floor.kill("SIGKILL");
    await floor.status;
    grpcFloor.kill("SIGKILL");
    await grpcFloor.status;
    plugin.kill("SIGTERM");
    await plugin.status;
    await kubelet.close();
    await env.close();
  }
}

// ---------------------------------------------------------------------------

const sections: Record<string, () => Promise<void>> = {
  graph,
  latency,
  sandbox,
  detection,
  idle: () => idleAndMemory(true, only?.includes("memory") ?? true),
  memory: () =>
    only?.includes("idle") ? Promise.resolve() : idleAndMemory(false, true),
  copy,
  scale,
  soak,
  "device-plugin": devicePlugin,
};

const began = performance.now();
for (const [name, run] of Object.entries(sections)) {
  if (only && !only.includes(name)) continue;
  if (name === "memory" && (!only || only.includes("idle"))) continue;
  log(`== ${name}`);
  const t0 = performance.now();
  await run();
  log(`   (${((performance.now() - t0) / 1_000).toFixed(0)} s)`);
}
const seconds = (performance.now() - began) / 1_000;

const run = {
  date: new Date().toISOString(),
  mode: quick ? "quick" : "full",
  sections: Object.keys(sections).filter((n) => !only || only.includes(n)),
  seconds,
  loadavg: Deno.loadavg(),
};
let runs = [run];
let all = figures;
if (flags.merge) {
  const old = JSON.parse(Deno.readTextFileSync(flags.out!)) as {
    runs?: typeof runs;
    figures: Figure[];
  } & Partial<typeof run>;
  // A file from before `runs` existed describes its one run at top level.
  old.runs ??= [{
    date: old.date ?? "",
    mode: old.mode ?? "",
    sections: [...new Set(old.figures.map((f) => f.section))],
    seconds: old.seconds ?? 0,
    loadavg: old.loadavg ?? [],
  }];
  const order = Object.keys(sections);
  const rank = (f: Figure) =>
    order.indexOf(f.section === "memory" ? "idle" : f.section);
  const redone = new Set(figures.map((f) => f.section));
  all = [...old.figures.filter((f) => !redone.has(f.section)), ...figures]
    .sort((a, b) => rank(a) - rank(b));
  runs = [...(old.runs ?? []), run];
}
const table = [
  "| figure | measured | target | met |",
  "|---|---|---|---|",
  ...all.map((f) =>
    `| ${f.name} | ${f.measured} | ${f.target} | ${
      f.ok === undefined ? "" : f.ok ? "yes" : "**no**"
    } |`
  ),
].join("\n");
Deno.stdout.writeSync(encoder.encode(table + "\n"));
Deno.writeTextFileSync(
  flags.out!,
  JSON.stringify(
    {
      deno: Deno.version,
      cpus: navigator.hardwareConcurrency,
      runs,
      figures: all,
    },
    null,
    1,
  ) + "\n",
);
log(`wrote ${flags.out} (${seconds.toFixed(0)} s)`);
