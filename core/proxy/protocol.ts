/**
 * What the runtime and its proxy agree on: files in the container's state
 * directory, the start signal, and exit codes.
 *
 * The proxy is the container's "process". `create` spawns it holding
 * `proxy.lock` for it: the descriptor `create` locked becomes the proxy's
 * stdin (`--lock=stdin`), so the lock passes from one process to the other
 * without a gap and is held exactly while the proxy lives. `create` then
 * returns at once, without waiting for Deno to start in the proxy. (Without
 * FFI `create` cannot hand a descriptor over: the proxy takes the lock
 * itself and `create` waits for `proxy.ready`.) `create` also starts the
 * proxy with its signals (SIGUSR1, SIGTERM, SIGINT) blocked, and the proxy
 * takes them from a signalfd: it sleeps in `poll(2)` between looks at
 * `state`, off Deno's event loop. (Started without FFI, it installs Deno
 * signal listeners and polls on a timer.) The proxy writes `proxy.ready`
 * once it can take signals; `start` waits for that file, then sends
 * SIGUSR1; the proxy writes `start` to the processor and reports the
 * outcome in `start.result`. It then watches the processor and exits when
 * it leaves `running`. SIGTERM/SIGINT make it stop the processor first.
 *
 * @module
 */
import type { Device } from "../device/sysfs.ts";
import {
  DEFAULT_START_POLICY,
  DEFAULT_STOP_POLICY,
  type StartPolicy,
  type StopPolicy,
} from "../plugin/types.ts";
import { type FlagSpecs, parseFlags } from "../util/flags.ts";
import { UsageError } from "../util/errors.ts";

/**
 * Given to a proxy spawned without FFI (`Deno.Command`, which cannot close
 * descriptors in the child), as `--close-fds-from=N`: the proxy closes
 * every descriptor from N on that it inherited, before it is ready. Spawned
 * through libc, it inherits none to begin with.
 */
export const CLOSE_FDS_FLAG = "--close-fds-from";

/** The `--lock` value of a proxy whose stdin is its held `proxy.lock`. */
export const LOCK_ON_STDIN = "stdin";

/** Signal that tells the proxy to start the processor. */
export const START_SIGNAL: Deno.Signal = "SIGUSR1";
/**
 * The signals the proxy takes (from a signalfd, see proxy.ts): `create`
 * starts it with them blocked.
 */
export const PROXY_SIGNALS: Deno.Signal[] = [START_SIGNAL, "SIGTERM", "SIGINT"];

/** Outcome of the proxy's start attempt. */
export interface StartResult {
  /** Whether the processor reached `running`. */
  ok: boolean;
  /** Why not, in the kernel's or the processor's words. */
  message?: string;
}

/** Exit codes of the proxy. A requested stop exits 128 + signal number. */
export const EXIT = {
  /** Someone else stopped the processor (it went offline). */
  stoppedExternally: 0,
  /** The start failed or the proxy could not work. */
  failed: 1,
  /** The processor crashed and the kernel did not recover it. */
  crashed: 2,
  /** The processor left `running` for another state (deleted, detached...). */
  lost: 3,
  /** Stopped on SIGTERM. */
  term: 143,
  /** Stopped on SIGINT. */
  int: 130,
} as const;

/**
 * How often the proxy reads the processor's `state` (sysfs does not notify
 * it). Each wake-up costs CPU whatever it does, so the period sets the idle
 * cost: at 60 ms an idle proxy uses about 0.3 % of one core (0.27-0.32 %
 * sleeping in poll(2); about 0.5 % on Deno's timers) while a stop is still
 * seen within one period (median about 35 ms, p95 about 60 ms; targets 50
 * and 100 ms): see BENCHMARKS.md.
 */
export const POLL_MS = 60;

/**
 * How long the proxy waits, with kernel recovery enabled, for a core that
 * reads `offline` to come back `running` before it calls it a stop: the
 * kernel's recovery passes through `offline` while it reloads the firmware.
 */
export const RECOVERY_GRACE_MS = 250;

/** Options the runtime passes on the proxy's command line. */
export interface ProxyOptions {
  dir: string;
  sysroot: string;
  device: Device;
  pollMs: number;
  /** The plugin's start policy (timeouts, retries, hints). */
  start: StartPolicy;
  /** The plugin's stop policy. */
  stop: StopPolicy;
  /** The plugin's state aliases over the generic table. */
  stateAliases: Record<string, string>;
}

/**
 * Turns {@linkcode ProxyOptions} into command-line arguments. The plugin's
 * policy travels as one JSON argument, so the proxy never loads a plugin.
 *
 * @param options The options.
 * @returns Arguments for the proxy.
 */
export function proxyArgs(options: ProxyOptions): string[] {
  return [
    `--dir=${options.dir}`,
    `--sysroot=${options.sysroot}`,
    `--device-index=${options.device.index}`,
    `--device-dir=${options.device.dir}`,
    `--device-name=${options.device.name}`,
    `--poll-ms=${options.pollMs}`,
    `--policy=${
      JSON.stringify({
        start: options.start,
        stop: options.stop,
        stateAliases: options.stateAliases,
      })
    }`,
  ];
}

/** The proxy's flags, as {@linkcode proxyArgs} writes them. */
const PROXY_FLAGS: FlagSpecs = {
  dir: { type: "string" },
  sysroot: { type: "string", default: "/" },
  "device-index": { type: "string" },
  "device-dir": { type: "string" },
  "device-name": { type: "string", default: "" },
  "poll-ms": { type: "string", default: String(POLL_MS) },
  policy: { type: "string", default: "{}" },
  lock: { type: "string" },
  [CLOSE_FDS_FLAG.slice(2)]: { type: "string" },
};

/**
 * Reads the proxy's command line: the inverse of {@linkcode proxyArgs},
 * plus `--lock=stdin` for a proxy handed its lock.
 *
 * @example A round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProxyArgs, POLL_MS, proxyArgs } from "./protocol.ts";
 * import { DEFAULT_START_POLICY, DEFAULT_STOP_POLICY } from "../plugin/types.ts";
 *
 * const device = {
 *   index: "remoteproc0",
 *   dir: "/sys/class/remoteproc/remoteproc0",
 *   name: "m4",
 *   driver: undefined,
 *   compatible: [],
 * };
 * const options = {
 *   dir: "/run/c1",
 *   sysroot: "/",
 *   device,
 *   pollMs: POLL_MS,
 *   start: { ...DEFAULT_START_POLICY },
 *   stop: { ...DEFAULT_STOP_POLICY, retries: 2 },
 *   stateAliases: { suspended: "running" },
 * };
 * assert.deepEqual(
 *   parseProxyArgs([...proxyArgs(options), "--lock=stdin"]),
 *   { ...options, lockOnStdin: true },
 * );
 * ```
 *
 * @param args The proxy's arguments.
 * @returns Its options.
 * @throws {UsageError} On an unknown flag, an argument that is not a flag,
 * or a missing `--dir`, `--device-index` or `--device-dir`.
 */
export function parseProxyArgs(
  args: string[],
): ProxyOptions & { lockOnStdin: boolean; closeFdsFrom?: number } {
  const prefix = "proxy: ";
  const { values, positionals } = parseFlags(args, PROXY_FLAGS, { prefix });
  if (positionals.length > 0) {
    throw new UsageError(
      `${prefix}unexpected argument ${JSON.stringify(positionals[0])}`,
    );
  }
  const need = (name: string): string => {
    const value = values[name];
    if (typeof value !== "string") {
      throw new UsageError(`${prefix}missing --${name}`);
    }
    return value;
  };
  const policy = JSON.parse(need("policy")) as {
    start?: Partial<StartPolicy>;
    stop?: Partial<StopPolicy>;
    stateAliases?: Record<string, string>;
  };
  const closeFrom = values[CLOSE_FDS_FLAG.slice(2)];
  return {
    lockOnStdin: values.lock === LOCK_ON_STDIN,
    ...(typeof closeFrom === "string"
      ? { closeFdsFrom: Number(closeFrom) }
      : {}),
    dir: need("dir"),
    sysroot: need("sysroot"),
    device: {
      index: need("device-index"),
      dir: need("device-dir"),
      name: need("device-name"),
      driver: undefined,
      compatible: [],
    },
    pollMs: Number(need("poll-ms")),
    start: { ...DEFAULT_START_POLICY, ...policy.start },
    stop: { ...DEFAULT_STOP_POLICY, ...policy.stop },
    stateAliases: policy.stateAliases ?? {},
  };
}
