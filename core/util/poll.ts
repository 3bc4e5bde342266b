/**
 * Waiting: sleeping, with or without the event loop, and polling a
 * condition until a deadline. Every wait of the runtime for a file, a lock
 * or a processor state goes through {@linkcode pollUntil} (or its blocking
 * twin {@linkcode pollUntilSync}).
 *
 * @module
 */

/**
 * Resolves after `ms` milliseconds.
 *
 * @param ms Delay.
 * @returns A promise.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks the thread for `ms` milliseconds (no timer, no event loop: this
 * spares a short-lived verb Deno's first timer, about 11 ms of start-up).
 *
 * @param ms Delay.
 */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Options of {@linkcode pollUntil} and {@linkcode pollUntilSync}. */
export interface PollOptions {
  /** Stop polling once this many ms have passed since the first look. */
  timeoutMs: number;
  /** The first pause between two looks (default 1 ms). */
  delayMs?: number;
  /** Pauses double up to this (default: `delayMs`, a fixed pause). */
  maxDelayMs?: number;
}

/** How {@linkcode pollUntil} pauses (default {@linkcode sleep}). */
export type Pause = (ms: number) => Promise<void>;

/**
 * Looks until `check` returns a value: at once, then after each pause,
 * until `timeoutMs` passed (the look that finds the deadline passed is the
 * last).
 *
 * @example Wait for a file another task writes
 * ```ts
 * import assert from "node:assert/strict";
 * import { pollUntil } from "./poll.ts";
 *
 * let n = 0;
 * const found = await pollUntil(() => ++n === 3 ? "third" : undefined, {
 *   timeoutMs: 1_000,
 * });
 * assert.equal(found, "third");
 * assert.equal(
 *   await pollUntil(() => undefined, { timeoutMs: 5, delayMs: 1, maxDelayMs: 4 }),
 *   undefined,
 * );
 * ```
 *
 * @param check Returns the value waited for, or undefined to go on; what it
 * throws ends the wait.
 * @param options Deadline and pauses.
 * @param pause How to pause (a caller may block instead of using a timer).
 * @returns The value, or undefined when the deadline passed first.
 */
export async function pollUntil<T>(
  check: () => T | undefined | Promise<T | undefined>,
  options: PollOptions,
  pause: Pause = sleep,
): Promise<T | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  const max = options.maxDelayMs ?? options.delayMs ?? 1;
  for (let delay = options.delayMs ?? 1;; delay = Math.min(delay * 2, max)) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) return undefined;
    await pause(delay);
  }
}

/**
 * {@linkcode pollUntil} that blocks the thread between looks instead of
 * running the event loop.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pollUntilSync } from "./poll.ts";
 *
 * const start = Date.now();
 * assert.equal(pollUntilSync(() => Date.now() - start >= 3 || undefined, {
 *   timeoutMs: 1_000,
 * }), true);
 * ```
 *
 * @param check Returns the value waited for, or undefined to go on.
 * @param options Deadline and pauses.
 * @returns The value, or undefined when the deadline passed first.
 */
export function pollUntilSync<T>(
  check: () => T | undefined,
  options: PollOptions,
): T | undefined {
  const deadline = Date.now() + options.timeoutMs;
  const max = options.maxDelayMs ?? options.delayMs ?? 1;
  for (let delay = options.delayMs ?? 1;; delay = Math.min(delay * 2, max)) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) return undefined;
    sleepSync(delay);
  }
}
