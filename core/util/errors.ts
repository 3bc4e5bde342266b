/**
 * Typed errors of the runtime. Every error a user can cause is a
 * {@linkcode RuntimeError}: it carries the process exit code and a one-line
 * message that the CLI prints as is (no stack trace). Where runc has a
 * message for the same situation, the same words are used, because engines
 * match on them (containerd maps "does not exist" to not-found and
 * "container not running" to already-exited).
 *
 * @module
 */

/**
 * Base class: an error the CLI reports as one line and exit code 1.
 *
 * @example Report any runtime error as one line and its exit code
 * ```ts
 * import assert from "node:assert/strict";
 * import { ContainerNotFoundError, RuntimeError } from "./errors.ts";
 *
 * function report(error: unknown): [string, number] {
 *   if (error instanceof RuntimeError) return [error.message, error.exitCode];
 *   throw error;
 * }
 * try {
 *   throw new ContainerNotFoundError("fw1");
 * } catch (error) {
 *   assert.deepEqual(report(error), ["container does not exist", 1]);
 * }
 * ```
 */
export class RuntimeError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 1;
  /**
   * Creates the error.
   *
   * @param message One line, lower case start as runc does, detail after a colon.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RuntimeError";
  }
}

/**
 * Bad command line: unknown flag, missing argument, invalid id or signal.
 *
 * @example An unknown signal is a usage error
 * ```ts
 * import assert from "node:assert/strict";
 * import { RuntimeError, UsageError } from "./errors.ts";
 * import { parseSignal } from "../os/signals.ts";
 *
 * assert.throws(() => parseSignal("NOPE"), UsageError);
 * const error = new UsageError("--root is empty");
 * assert.ok(error instanceof RuntimeError);
 * assert.equal(error.exitCode, 1);
 * ```
 */
export class UsageError extends RuntimeError {
  /**
   * Creates the error.
   *
   * @param message What is wrong with the command line.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/**
 * The container id names no container (runc: `container does not exist`).
 *
 * @example Tell a missing container from other errors
 * ```ts
 * import assert from "node:assert/strict";
 * import { ContainerNotFoundError } from "./errors.ts";
 *
 * try {
 *   throw new ContainerNotFoundError("fw1");
 * } catch (error) {
 *   assert.ok(error instanceof ContainerNotFoundError);
 *   assert.equal(error.id, "fw1");
 *   assert.equal(error.message, "container does not exist");
 *   assert.equal(error.exitCode, 1);
 * }
 * ```
 */
export class ContainerNotFoundError extends RuntimeError {
  /**
   * Creates the error.
   *
   * @param id The container id that was looked up.
   */
  constructor(readonly id: string) {
    super("container does not exist");
    this.name = "ContainerNotFoundError";
  }
}

/**
 * `create` with an id that is taken (runc's wording).
 *
 * @example runc's wording for a taken id
 * ```ts
 * import assert from "node:assert/strict";
 * import { ContainerExistsError } from "./errors.ts";
 *
 * const error = new ContainerExistsError("fw1");
 * assert.throws(() => {
 *   throw error;
 * }, { message: "container with given ID already exists" });
 * assert.equal(error.exitCode, 1);
 * ```
 */
export class ContainerExistsError extends RuntimeError {
  /**
   * Creates the error.
   *
   * @param id The container id that is already in use.
   */
  constructor(readonly id: string) {
    super("container with given ID already exists");
    this.name = "ContainerExistsError";
  }
}

/**
 * An operation that the container's current status does not allow.
 *
 * @example Killing a stopped container
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidStateError } from "./errors.ts";
 *
 * try {
 *   throw new InvalidStateError("container not running", "stopped");
 * } catch (error) {
 *   assert.ok(error instanceof InvalidStateError);
 *   assert.equal(error.status, "stopped");
 *   assert.equal(error.exitCode, 1);
 * }
 * ```
 */
export class InvalidStateError extends RuntimeError {
  /**
   * Creates the error.
   *
   * @param message runc's message for the transition.
   * @param status The status the container was in.
   */
  constructor(message: string, readonly status: string) {
    super(message);
    this.name = "InvalidStateError";
  }
}

/**
 * The bundle (config.json, rootfs, firmware path) is not acceptable.
 *
 * @example A bundle field that is wrong
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError, RuntimeError } from "./errors.ts";
 *
 * const error = new ConfigError("config.json: process.args[0] is empty");
 * assert.throws(() => {
 *   throw error;
 * }, RuntimeError);
 * assert.equal(error.name, "ConfigError");
 * assert.equal(error.exitCode, 1);
 * ```
 */
export class ConfigError extends RuntimeError {
  /**
   * Creates the error.
   *
   * @param message What is wrong, naming the field.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
  }
}

/**
 * The remote processor is missing, busy, or refused an operation.
 *
 * @example The kernel refused a write, with the errno as cause
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeviceError } from "./errors.ts";
 *
 * const cause = new Error("EBUSY");
 * const error = new DeviceError("remoteproc0: stop refused: EBUSY", { cause });
 * assert.throws(() => {
 *   throw error;
 * }, DeviceError);
 * assert.equal(error.cause, cause);
 * assert.equal(error.exitCode, 1);
 * ```
 */
export class DeviceError extends RuntimeError {
  /**
   * Creates the error.
   *
   * @param message What the processor (or the kernel) reported.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DeviceError";
  }
}

/**
 * The firmware image is not one the processor can load.
 *
 * @example An image that is not ELF
 * ```ts
 * import assert from "node:assert/strict";
 * import { FirmwareError } from "./errors.ts";
 * import { parseFirmware } from "../firmware/elf.ts";
 *
 * try {
 *   parseFirmware(new Uint8Array(64));
 *   assert.fail("not reached");
 * } catch (error) {
 *   assert.ok(error instanceof FirmwareError);
 *   assert.equal(error.exitCode, 1);
 * }
 * ```
 */
export class FirmwareError extends RuntimeError {
  /**
   * Creates the error.
   *
   * @param message What is wrong with the image.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FirmwareError";
  }
}

/**
 * Stored state is unreadable or corrupt. `delete --force` still cleans up.
 *
 * @example A corrupt state file
 * ```ts
 * import assert from "node:assert/strict";
 * import { StateError } from "./errors.ts";
 *
 * const error = new StateError("state.json of fw1 is corrupt");
 * assert.throws(() => {
 *   throw error;
 * }, StateError);
 * assert.equal(error.exitCode, 1);
 * ```
 */
export class StateError extends RuntimeError {
  /**
   * Creates the error.
   *
   * @param message What is wrong with the stored state.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StateError";
  }
}

/**
 * Describes any thrown value as one line, for errors that are not
 * {@linkcode RuntimeError}s (I/O failures and the like).
 *
 * @param error Anything that was thrown.
 * @returns The message, with newlines folded into spaces.
 */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, " ").trim() || "unknown error";
}

/**
 * A failed file operation on the runtime's own files (state root, locks,
 * claims) as one sentence naming the file and what is wrong with it, for
 * the environment problems a user must fix: a read-only or full file
 * system, a missing permission.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileError } from "./errors.ts";
 *
 * const file = Deno.makeTempFileSync();
 * let error: unknown;
 * try {
 *   Deno.mkdirSync(`${file}/x`);
 * } catch (e) {
 *   error = e;
 * }
 * assert.equal(
 *   fileError("create directory", `${file}/x`, error).message,
 *   `cannot create directory ${file}/x: not a directory`,
 * );
 * Deno.removeSync(file);
 * ```
 *
 * @param action What was being done (`write`, `create directory`, ...).
 * @param path The file.
 * @param error What the operation threw.
 * @returns The error to throw.
 */
export function fileError(
  action: string,
  path: string,
  error: unknown,
): StateError {
  return new StateError(`cannot ${action} ${path}: ${osReason(error)}`, {
    cause: error,
  });
}

/**
 * Whether an operation failed because a path was too long for the kernel
 * (`ENAMETOOLONG`): such a path names no file, ever.
 *
 * @param error What the operation threw.
 * @returns True for `ENAMETOOLONG`.
 */
export function isNameTooLong(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "ENAMETOOLONG";
}

/**
 * Why a file operation failed, in runc's wording: the OS's text, lowercase,
 * without Deno's `(os error N)` or the call and path it appends
 * (`read-only file system`, `no space left on device`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { osReason } from "./errors.ts";
 * let error: unknown;
 * try {
 *   Deno.readTextFileSync("/nonexistent/file");
 * } catch (e) {
 *   error = e;
 * }
 * assert.equal(osReason(error), "no such file or directory");
 * ```
 *
 * @param error What the operation threw.
 * @returns The reason.
 */
export function osReason(error: unknown): string {
  if (error instanceof Deno.errors.NotCapable) {
    return "not allowed by the runtime's Deno permissions";
  }
  const text = describeError(error).replace(/\s*\(os error \d+\).*$/s, "");
  return text.charAt(0).toLowerCase() + text.slice(1);
}
