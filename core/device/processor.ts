/**
 * Starting and stopping a processor with a plugin's policy: write the
 * command, wait for the state it leads to, retry the errnos the policy
 * names, and explain a failure with the policy's hints. Used by the proxy
 * (start, stop on SIGTERM), `delete` (after the proxy was killed) and
 * `start` when it rolls back.
 *
 * @module
 */
import { describeError, DeviceError } from "../util/errors.ts";
import { type Pause, pollUntil, sleep } from "../util/poll.ts";
import {
  type DeviceRef,
  isKernelState,
  label,
  simulatedRefusal,
  type StateCommand,
  type Sysfs,
} from "./sysfs.ts";
import {
  DEFAULT_START_POLICY,
  DEFAULT_STOP_POLICY,
  type StartPolicy,
  type StopPolicy,
} from "../plugin/types.ts";

/** Options of {@linkcode startProcessor} and {@linkcode stopProcessor}. */
export interface ProcessorHooks {
  /** Told before each retry. */
  onRetry?: (message: string) => void;
  /**
   * The wait between looks while a simulator answers (a kernel answers in
   * `write(2)`) and before retries. Default: a timer. The proxy, whose
   * event loop has nothing else to do, blocks instead (cheaper per wake).
   */
  pause?: Pause;
}

/** What one write of a command led to. */
interface Outcome {
  ok: boolean;
  /** The state read last. */
  state: string;
  /** The errno, when known. */
  code?: string | undefined;
  /** The write's own error message, when it threw. */
  message?: string | undefined;
  /** No kernel state appeared in time. */
  timedOut?: boolean;
}

/**
 * The errno code of a failed sysfs write (`EBUSY`), if it carries one.
 *
 * @param error What `Sysfs.writeState` threw.
 * @returns The code, or undefined.
 */
export function errnoOf(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  const code = cause?.code;
  return typeof code === "string" && code !== "" ? code : undefined;
}

/**
 * Throws unless the processor reads `offline`: firmware is only written,
 * and `start` only written, to an offline core (since Linux 5.19 a second
 * start silently succeeds and a later stop leaves the core running).
 *
 * @param sysfs Sysfs access.
 * @param device The processor.
 * @throws {DeviceError} Naming the state it reads.
 */
export function assertOffline(sysfs: Sysfs, device: DeviceRef): void {
  const state = sysfs.readState(device);
  if (state === "offline") return;
  const why = state === "attached"
    ? ": it runs firmware the runtime did not load (started by the bootloader); stop it first, or use a plugin that can"
    : "";
  throw new DeviceError(
    `${
      label(device)
    } is not offline (it reads "${state}"): refusing to load firmware into it${why}`,
  );
}

/**
 * Starts an offline processor whose firmware name is already written, and
 * waits for `running`.
 *
 * @param sysfs Sysfs access.
 * @param device The processor.
 * @param policy The plugin's start policy.
 * @param hooks Progress reports and the pause between looks.
 * @throws {DeviceError} Saying what the processor or kernel reported.
 */
export async function startProcessor(
  sysfs: Sysfs,
  device: DeviceRef,
  policy: Partial<StartPolicy> = {},
  hooks: ProcessorHooks = {},
): Promise<void> {
  const { onRetry = () => {}, pause = sleep } = hooks;
  const p = { ...DEFAULT_START_POLICY, ...policy };
  const name = label(device);
  for (let attempt = 0;; attempt++) {
    assertOffline(sysfs, device);
    const r = await command(
      sysfs,
      device,
      "start",
      "running",
      p.timeoutMs,
      pause,
    );
    if (r.ok) return;
    if (r.timedOut) {
      throw new DeviceError(
        `${name} did not reach running within ${p.timeoutMs} ms`,
      );
    }
    if (attempt < p.retries && r.code && p.retryOn.includes(r.code)) {
      onRetry(`${name}: start failed with ${r.code}, retrying`);
      await pause(p.retryDelayMs);
      continue;
    }
    const tries = attempt > 0 ? ` after ${attempt + 1} attempts` : "";
    const base = r.message ??
      (r.code
        ? `${name} did not start: ${r.code}${tries} (see the kernel log)`
        : `${name} did not start: it reads "${r.state}" (see the kernel log)`);
    throw failure(base, r.code, p.hints);
  }
}

/**
 * Brings a processor to `offline`. A crashed core is stopped where the
 * kernel allows it; on kernels before the "allow shutdown of crashed
 * processors" change that gives EINVAL, so it is recovered (`recovery` <-
 * `recover`, which reboots it from the same firmware file) and then
 * stopped. Errnos the policy names are retried.
 *
 * @param sysfs Sysfs access.
 * @param device The processor.
 * @param policy The plugin's stop policy (or just a timeout in ms).
 * @param hooks Progress reports and the pause between looks.
 * @throws {DeviceError} When it does not go offline.
 */
export async function stopProcessor(
  sysfs: Sysfs,
  device: DeviceRef,
  policy: Partial<StopPolicy> | number = {},
  hooks: ProcessorHooks = {},
): Promise<void> {
  const { onRetry = () => {}, pause = sleep } = hooks;
  const p = {
    ...DEFAULT_STOP_POLICY,
    ...(typeof policy === "number" ? { timeoutMs: policy } : policy),
  };
  const name = label(device);
  const writeStop = () =>
    command(sysfs, device, "stop", "offline", p.timeoutMs, pause);
  let state = await settled(sysfs, device, p.timeoutMs, pause);
  if (state === "offline") return;
  if (state === "crashed") {
    const r = await writeStop();
    if (r.ok) return;
    sysfs.writeRecovery(device, "recover");
    await waitFor(
      sysfs,
      device,
      (s) => s === "running" || s === "offline",
      p.timeoutMs,
      pause,
    );
    state = sysfs.readState(device);
    if (state === "offline") return;
  }
  if (state !== "running" && state !== "attached") {
    throw new DeviceError(
      `${name} cannot be stopped: it reads "${state}" (only a running or attached core can)`,
    );
  }
  for (let attempt = 0;; attempt++) {
    const r = await writeStop();
    if (r.ok) return;
    if (r.timedOut) {
      throw new DeviceError(
        `${name} did not go offline within ${p.timeoutMs} ms (it reads "${r.state}")`,
      );
    }
    if (attempt < p.retries && r.code && p.retryOn.includes(r.code)) {
      onRetry(`${name}: stop failed with ${r.code}, retrying`);
      await pause(p.retryDelayMs);
      continue;
    }
    const tries = attempt > 0 ? ` after ${attempt + 1} attempts` : "";
    const base = r.message ??
      `${name} did not stop: ${
        r.code ?? "refused"
      }${tries} (it reads "${r.state}")`;
    throw failure(base, r.code, p.hints);
  }
}

/** The error for a refused command: the policy's hint added, the errno kept (see {@linkcode errnoOf}). */
function failure(
  message: string,
  code: string | undefined,
  hints: Readonly<Record<string, string>>,
): DeviceError {
  const hint = code && Object.hasOwn(hints, code) ? hints[code] : undefined;
  return new DeviceError(
    hint ? `${message}: ${hint}` : message,
    code ? { cause: { code } } : undefined,
  );
}

/** Writes a command and waits for a kernel state to appear. */
async function command(
  sysfs: Sysfs,
  device: DeviceRef,
  what: StateCommand,
  target: string,
  timeoutMs: number,
  pause: Pause,
): Promise<Outcome> {
  try {
    sysfs.writeState(device, what);
  } catch (error) {
    return {
      ok: false,
      state: sysfs.readState(device),
      code: errnoOf(error),
      message: describeError(error),
    };
  }
  // A kernel answers in write(2); a simulator shows the written word until
  // it acts. Any kernel state but the target is a refusal.
  const { state, timedOut } = await watch(
    sysfs,
    device,
    isKernelState,
    timeoutMs,
    pause,
  );
  if (state === target) return { ok: true, state };
  if (timedOut) return { ok: false, state, timedOut };
  return { ok: false, state, code: simulatedRefusal(device) };
}

/** The state once it is a kernel state (not a word being answered). */
async function settled(
  sysfs: Sysfs,
  device: DeviceRef,
  timeoutMs: number,
  pause: Pause,
): Promise<string> {
  return (await watch(sysfs, device, isKernelState, timeoutMs, pause)).state;
}

async function waitFor(
  sysfs: Sysfs,
  device: DeviceRef,
  done: (state: string) => boolean,
  timeoutMs: number,
  pause: Pause,
): Promise<void> {
  const { state, timedOut } = await watch(
    sysfs,
    device,
    done,
    timeoutMs,
    pause,
  );
  if (timedOut) {
    throw new DeviceError(
      `${
        label(device)
      } did not go offline within ${timeoutMs} ms (it reads "${state}")`,
    );
  }
}

/** The longest pause between two looks at `state` while it is answered. */
const MAX_PAUSE_MS = 8;

/**
 * Reads `state` until `done` accepts it or `timeoutMs` passed: at once,
 * then after pauses of 1, 2, 4 and 8 ms. A kernel has answered already; a
 * simulator answers within a few ms on a quiet machine and later on a busy
 * one, where looking every 2 ms would only take CPU from it.
 */
async function watch(
  sysfs: Sysfs,
  device: DeviceRef,
  done: (state: string) => boolean,
  timeoutMs: number,
  pause: Pause,
): Promise<{ state: string; timedOut: boolean }> {
  let state = "";
  const seen = await pollUntil(
    () => {
      state = sysfs.readState(device);
      return done(state) ? state : undefined;
    },
    { timeoutMs, delayMs: 1, maxDelayMs: MAX_PAUSE_MS },
    pause,
  );
  return { state, timedOut: seen === undefined };
}
