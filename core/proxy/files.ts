/**
 * The two files the proxy leaves in its container's state directory for
 * the runtime: `proxy.ready` (its pid, once it can take signals) and
 * `start.result` (the outcome of a start, see
 * {@linkcode StartResult}). This is the one module that reads or writes
 * them; the lock files are locks.ts's, the record is record.ts's.
 *
 * @module
 */
import { join } from "../util/posix_path.ts";
import { describeError, RuntimeError } from "../util/errors.ts";
import { removeIfPresent } from "../util/fs.ts";
import type { StartResult } from "./protocol.ts";

/** Written by the proxy (its pid) once it can take signals. */
export const READY_FILE = "proxy.ready";
/** Written by the proxy after a start attempt: {@linkcode StartResult}. */
export const START_RESULT_FILE = "start.result";

/**
 * The proxy: says it can take signals, with its pid.
 *
 * @param dir The container's state directory.
 */
export function writeReady(dir: string): void {
  Deno.writeTextFileSync(join(dir, READY_FILE), String(Deno.pid));
}

/**
 * Whether the proxy has said it can take signals.
 *
 * @param dir The container's state directory.
 * @returns Whether `proxy.ready` exists.
 * @throws {RuntimeError} When the directory cannot be looked at.
 */
export function isReady(dir: string): boolean {
  try {
    Deno.statSync(join(dir, READY_FILE));
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw new RuntimeError(`cannot check the proxy: ${describeError(error)}`);
  }
}

/**
 * The pid the proxy wrote in its ready file, if it got that far.
 *
 * @param dir The container's state directory.
 * @returns A pid above 1, or undefined.
 */
export function readyPid(dir: string): number | undefined {
  try {
    const pid = Number(Deno.readTextFileSync(join(dir, READY_FILE)));
    return Number.isSafeInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The proxy: reports a start attempt (atomically: temp file, rename).
 *
 * @param dir The container's state directory.
 * @param result The outcome.
 */
export function writeStartResult(dir: string, result: StartResult): void {
  const tmp = join(dir, `.${START_RESULT_FILE}.tmp`);
  Deno.writeTextFileSync(tmp, JSON.stringify(result));
  Deno.renameSync(tmp, join(dir, START_RESULT_FILE));
}

/**
 * The outcome of the last start attempt.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   clearStartResult,
 *   readStartResult,
 *   writeStartResult,
 * } from "./files.ts";
 *
 * const dir = Deno.makeTempDirSync();
 * assert.equal(readStartResult(dir), undefined);
 * writeStartResult(dir, { ok: true });
 * assert.deepEqual(readStartResult(dir), { ok: true });
 * clearStartResult(dir);
 * assert.equal(readStartResult(dir), undefined);
 * Deno.removeSync(dir);
 * ```
 *
 * @param dir The container's state directory.
 * @returns The result, or undefined while there is none.
 * @throws What reading or parsing it threw, but a missing file.
 */
export function readStartResult(dir: string): StartResult | undefined {
  try {
    return JSON.parse(
      Deno.readTextFileSync(join(dir, START_RESULT_FILE)),
    ) as StartResult;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * Removes the result of an earlier start attempt (`start`, before it
 * signals the proxy).
 *
 * @param dir The container's state directory.
 */
export function clearStartResult(dir: string): void {
  removeIfPresent(join(dir, START_RESULT_FILE));
}
