/**
 * Starting and stopping a processor with a plugin's policy: write the
 * command, wait for the state it leads to, retry the errnos the policy
 * names, and explain a failure with the policy's hints. Used by the proxy
 * (start, stop on SIGTERM), `delete` (after the proxy was killed) and
 * `start` when it rolls back.
 *
 * @module
 */
import { describeError, DeviceError } from "./errors.ts";
import { sleep } from "./locks.ts";
import {
  type DeviceRef,
  isKernelState,
  label,
  type StateCommand,
  type Sysfs,
} from "./sysfs.ts";
import {
  DEFAULT_START_POLICY,
  DEFAULT_STOP_POLICY,
  type StartPolicy,
  type StopPolicy,
} from "../plugins/types.ts";

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
 * @param onRetry Told before each retry.
 * @throws {DeviceError} Saying what the processor or kernel reported.
 */
export async function startProcessor(
  sysfs: Sysfs,
  device: DeviceRef,
  policy: Partial<StartPolicy> = {},
  onRetry: (message: string) => void = () => {},
): Promise<void> {
  const p = { ...DEFAULT_START_POLICY, ...policy };
  const name = label(device);
  for (let attempt = 0;; attempt++) {
    assertOffline(sysfs, device);
    const r = await command(sysfs, device, "start", "running", p.timeoutMs);
    if (r.ok) return;
    if (r.timedOut) {
      throw new DeviceError(
        `${name} did not reach running within ${p.timeoutMs} ms`,
      );
    }
    if (attempt < p.retries && r.code && p.retryOn.includes(r.code)) {
      onRetry(`${name}: start failed with ${r.code}, retrying`);
      await sleep(p.retryDelayMs);
      continue;
    }
    const tries = attempt > 0 ? ` after ${attempt + 1} attempts` : "";
    const base = r.message ??
      (r.code
        ? `${name} did not start: ${r.code}${tries} (see the kernel log)`
        : `${name} did not start: it reads "${r.state}" (see the kernel log)`);
    throw new DeviceError(withHint(base, r.code, p.hints));
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
 * @param onRetry Told before each retry.
 * @throws {DeviceError} When it does not go offline.
 */
export async function stopProcessor(
  sysfs: Sysfs,
  device: DeviceRef,
  policy: Partial<StopPolicy> | number = {},
  onRetry: (message: string) => void = () => {},
): Promise<void> {
  const p = {
    ...DEFAULT_STOP_POLICY,
    ...(typeof policy === "number" ? { timeoutMs: policy } : policy),
  };
  const name = label(device);
  let state = await settled(sysfs, device, p.timeoutMs);
  if (state === "offline") return;
  if (state === "crashed") {
    const r = await command(sysfs, device, "stop", "offline", p.timeoutMs);
    if (r.ok) return;
    sysfs.writeRecovery(device, "recover");
    await waitFor(
      sysfs,
      device,
      (s) => s === "running" || s === "offline",
      p.timeoutMs,
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
    const r = await command(sysfs, device, "stop", "offline", p.timeoutMs);
    if (r.ok) return;
    if (r.timedOut) {
      throw new DeviceError(
        `${name} did not go offline within ${p.timeoutMs} ms (it reads "${r.state}")`,
      );
    }
    if (attempt < p.retries && r.code && p.retryOn.includes(r.code)) {
      onRetry(`${name}: stop failed with ${r.code}, retrying`);
      await sleep(p.retryDelayMs);
      continue;
    }
    const tries = attempt > 0 ? ` after ${attempt + 1} attempts` : "";
    const base = r.message ??
      `${name} did not stop: ${
        r.code ?? "refused"
      }${tries} (it reads "${r.state}")`;
    throw new DeviceError(withHint(base, r.code, p.hints));
  }
}

function withHint(
  message: string,
  code: string | undefined,
  hints: Readonly<Record<string, string>>,
): string {
  const hint = code && Object.hasOwn(hints, code) ? hints[code] : undefined;
  return hint ? `${message}: ${hint}` : message;
}

/** Writes a command and waits for a kernel state to appear. */
async function command(
  sysfs: Sysfs,
  device: DeviceRef,
  what: StateCommand,
  target: string,
  timeoutMs: number,
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
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A kernel answers in write(2); a simulator shows the written word
    // until it acts. Any kernel state but the target is a refusal.
    const state = sysfs.readState(device);
    if (state === target) return { ok: true, state };
    if (isKernelState(state)) {
      return { ok: false, state, code: sysfs.lastError(device) };
    }
    if (Date.now() > deadline) return { ok: false, state, timedOut: true };
    await sleep(2);
  }
}

/** The state once it is a kernel state (not a word being answered). */
async function settled(
  sysfs: Sysfs,
  device: DeviceRef,
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = sysfs.readState(device);
    if (isKernelState(state) || Date.now() > deadline) return state;
    await sleep(2);
  }
}

async function waitFor(
  sysfs: Sysfs,
  device: DeviceRef,
  done: (state: string) => boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = sysfs.readState(device);
    if (done(state)) return;
    if (Date.now() > deadline) {
      throw new DeviceError(
        `${
          label(device)
        } did not go offline within ${timeoutMs} ms (it reads "${state}")`,
      );
    }
    await sleep(2);
  }
}
