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

/** Base class: an error the CLI reports as one line and exit code 1. */
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

/** Bad command line: unknown flag, missing argument, invalid id or signal. */
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

/** The container id names no container (runc: `container does not exist`). */
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

/** `create` with an id that is taken (runc's wording). */
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

/** An operation that the container's current status does not allow. */
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

/** The bundle (config.json, rootfs, firmware path) is not acceptable. */
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

/** The remote processor is missing, busy, or refused an operation. */
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

/** The firmware image is not one the processor can load. */
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

/** Stored state is unreadable or corrupt. `delete --force` still cleans up. */
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
