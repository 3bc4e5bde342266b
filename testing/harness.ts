/**
 * Black-box test harness, shared by the tests, the benchmarks
 * (bench/lib.ts) and vendors' plugin tests (`@remoteproc/runtime/testing`):
 * a simulator in a temp sysroot, bundles, and the CLI run through
 * bin/remoteproc-runtime under its real (narrow) permission set, or through
 * `REMOTEPROC_RUNTIME_BIN` when set (a runtime built with a vendor's
 * plugins, or a compiled binary).
 * An environment is disposable: `await using env = await setUp();` tears it
 * down (containers deleted, simulator stopped, temp directory removed) when
 * the test ends, however it ends.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ProcessorSpec, Simulator } from "../sim/simulator.ts";
import { makeSymlinks } from "../sim/symlinks.ts";
import { makeElf } from "../fixtures/make_elf.ts";
import { pollUntil } from "../core/util/poll.ts";

/** bin/remoteproc-runtime of this checkout. */
export const LAUNCHER: string = fileURLToPath(
  new URL("../bin/remoteproc-runtime", import.meta.url),
);

/**
 * The runtime under test: `REMOTEPROC_RUNTIME_BIN` (a runtime built with
 * vendor plugins, `deno task test:vendor`, or a compiled binary), else
 * {@linkcode LAUNCHER}.
 */
export const RUNTIME_BIN: string = Deno.env.get("REMOTEPROC_RUNTIME_BIN") ||
  LAUNCHER;

/** What a CLI run produced. */
export interface RunResult {
  /** The exit code. */
  code: number;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** Options of a bundle. */
export interface BundleOptions {
  /** config.json as an object (merged over a valid default) or raw text. */
  config?: Record<string, unknown> | string;
  /** Annotations (default `remoteproc.name: m4`). */
  annotations?: Record<string, string>;
  /** Files in the rootfs (default `fw.elf`: a valid ELF). */
  files?: Record<string, Uint8Array | string>;
  /** Symlinks in the rootfs: path -> target. */
  symlinks?: Record<string, string>;
}

/** A simulator plus helpers, torn down by {@linkcode Env.close}. */
export interface Env extends AsyncDisposable {
  /** The simulated SoC (its `violations` list sysfs protocol misuse). */
  sim: Simulator;
  /** The temp directory holding everything. */
  tmp: string;
  /** The sysroot. */
  sysroot: string;
  /** The state root (the default one under the sysroot). */
  root: string;
  /** Runs the CLI (with the sysroot in the environment). */
  run(
    args: string[],
    options?: {
      env?: Record<string, string>;
      clearEnv?: boolean;
      cwd?: string;
    },
  ): Promise<RunResult>;
  /** Makes a bundle directory and returns its path. */
  bundle(options?: BundleOptions): string;
  /** `create` then `start` with a fresh bundle; asserts both succeed. */
  deploy(id: string, options?: BundleOptions): Promise<string>;
  /** Parsed `state ID`. */
  state(
    id: string,
  ): Promise<
    { status: string; pid: number; annotations: Record<string, string> }
  >;
  /** Files now under the firmware directory (at any depth, relative paths). */
  storedFirmware(dir?: string): string[];
  /** Where the runtime keeps the state of container `id`. */
  containerDir(id: string): string;
  /**
   * Container directories (and tombstones), plus anything else in the state
   * root besides its `containers` and `claims` directories.
   */
  containers(): string[];
  /** Claim files. */
  claims(): string[];
  /** Waits until `fn` is true or fails after `ms`. */
  until(fn: () => boolean | Promise<boolean>, ms?: number): Promise<void>;
  /** Deletes every container, stops the simulator, removes the temp dir. */
  close(): Promise<void>;
}

/** Options of {@linkcode setUp}. */
export interface SetUpOptions {
  /** Prefix of the temp directory (default `rprt-test-`). */
  prefix?: string;
  /** The runtime to run (default {@linkcode RUNTIME_BIN}). */
  runtime?: string;
}

let bundles = 0;
let runs = 0;

/**
 * Sets up a simulator with the given processors (default one `m4`).
 *
 * @example A vendor's test: the CLI deploys to a simulated processor
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { assertClean, assertNoViolations, setUp } from "@remoteproc/runtime/testing";
 *
 * Deno.test("acme: firmware runs on the M7", async () => {
 *   await using env = await setUp([{ name: "m7_0", driver: "acme-rproc" }]);
 *   await env.deploy("c1", { annotations: { "remoteproc.name": "m7_0" } });
 *   assert.equal(env.sim.state(0), "running");
 *   assert.equal((await env.run(["delete", "--force", "c1"])).code, 0);
 *   await assertClean(env);
 *   assertNoViolations(env);
 * });
 * ```
 *
 * @param processors Processor specs.
 * @param options Where the temp directory goes.
 * @returns The environment, to be used with `await using`.
 */
export async function setUp(
  processors: ProcessorSpec[] = [{ name: "m4" }],
  options: SetUpOptions = {},
): Promise<Env> {
  const tmp = Deno.makeTempDirSync({ prefix: options.prefix ?? "rprt-test-" });
  const sysroot = join(tmp, "sysroot");
  const sim = await Simulator.create({ root: sysroot, processors });
  const root = join(sysroot, "run/remoteproc-runtime");
  const runtime = options.runtime ?? RUNTIME_BIN;
  let closed = false;

  const env: Env = {
    sim,
    tmp,
    sysroot: sim.root,
    root,
    async run(args, options = {}) {
      // stdout/stderr go to files, not pipes: the proxy that create spawns
      // inherits them and lives on, and a pipe would never reach EOF.
      const out = join(tmp, `out${runs}`);
      const err = join(tmp, `err${runs++}`);
      const status = await new Deno.Command("/bin/sh", {
        args: [
          "-c",
          'out=$1 err=$2; shift 2; exec "$@" >"$out" 2>"$err"',
          "sh",
          out,
          err,
          runtime,
          ...(options.clearEnv ? [`--sysroot=${sim.root}`] : []),
          ...args,
        ],
        env: options.clearEnv
          ? {}
          : { REMOTEPROC_RUNTIME_SYSROOT: sim.root, ...options.env },
        clearEnv: options.clearEnv ?? false,
        cwd: options.cwd ?? tmp,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).output();
      const result = {
        code: status.code,
        stdout: Deno.readTextFileSync(out),
        stderr: Deno.readTextFileSync(err),
      };
      Deno.removeSync(out);
      Deno.removeSync(err);
      return result;
    },
    bundle(options = {}) {
      const dir = join(tmp, `bundle${bundles++}`);
      const rootfs = join(dir, "rootfs");
      Deno.mkdirSync(rootfs, { recursive: true });
      const files = options.files ?? { "fw.elf": makeElf() };
      for (const [name, data] of Object.entries(files)) {
        const path = join(rootfs, name);
        Deno.mkdirSync(join(path, ".."), { recursive: true });
        if (typeof data === "string") Deno.writeTextFileSync(path, data);
        else Deno.writeFileSync(path, data);
      }
      makeSymlinks(
        Object.entries(options.symlinks ?? {}).map(([p, t]) =>
          [t, join(rootfs, p)] as const
        ),
      );
      const config = typeof options.config === "string"
        ? options.config
        : JSON.stringify({
          ociVersion: "1.0.2",
          process: { args: ["fw.elf"], cwd: "/", terminal: false },
          root: { path: "rootfs" },
          annotations: options.annotations ?? { "remoteproc.name": "m4" },
          ...options.config,
        });
      Deno.writeTextFileSync(join(dir, "config.json"), config);
      return dir;
    },
    async deploy(id, options) {
      const bundle = env.bundle(options);
      const created = await env.run(["create", "--bundle", bundle, id]);
      if (created.code !== 0) {
        throw new Error(`create failed: ${created.stderr}`);
      }
      const started = await env.run(["start", id]);
      if (started.code !== 0) {
        throw new Error(`start failed: ${started.stderr}`);
      }
      return bundle;
    },
    async state(id) {
      const result = await env.run(["state", id]);
      if (result.code !== 0) throw new Error(`state failed: ${result.stderr}`);
      return JSON.parse(result.stdout);
    },
    storedFirmware(dir = join(sim.root, "lib/firmware")) {
      return listFiles(dir);
    },
    containerDir(id) {
      return join(root, "containers", id);
    },
    containers() {
      return [
        ...list(join(root, "containers")),
        ...list(root).filter((n) => n !== "containers" && n !== "claims"),
      ];
    },
    claims() {
      return list(join(sim.root, "run/remoteproc-runtime/claims")).filter((n) =>
        !n.startsWith(".")
      );
    },
    async until(fn, ms = 5_000) {
      const met = await pollUntil(async () => (await fn()) || undefined, {
        timeoutMs: ms,
        delayMs: 10,
      });
      if (!met) throw new Error("condition not met in time");
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const id of env.containers()) {
        await env.run(["delete", "--force", id]);
      }
      await sim.close();
      Deno.removeSync(tmp, { recursive: true });
    },
    [Symbol.asyncDispose]() {
      return env.close();
    },
  };
  return env;
}

/**
 * The files below a directory, at any depth, as paths relative to it
 * (sorted; `[]` when it does not exist). Directories are not listed: a
 * vendor's firmware subdirectory (`acme/`) may stay, its files may not.
 *
 * @param dir A directory.
 * @returns Relative paths of the files (not directories) below it.
 */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (sub: string) => {
    for (const name of list(join(dir, sub))) {
      const rel = sub ? `${sub}/${name}` : name;
      let isDir = false;
      try {
        isDir = Deno.lstatSync(join(dir, rel)).isDirectory;
      } catch {
        continue; // removed meanwhile
      }
      if (isDir) walk(rel);
      else out.push(rel);
    }
  };
  walk("");
  return out.sort();
}

/**
 * Files in a directory, sorted; none when it does not exist.
 *
 * @param dir The directory.
 * @returns Names.
 */
export function list(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}
