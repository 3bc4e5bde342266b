/**
 * The C library through Deno's FFI: the runtime's only native code (the
 * only `Deno.dlopen` caller; a test checks). It serves Landlock
 * (core/landlock.ts) and sending signals ({@linkcode sendSignal}): Deno's own
 * `Deno.kill` costs about 7 ms on its first call (a lazy start-up of Deno's
 * process support), `kill(2)` through libc a few microseconds once the
 * library is loaded, which every confined verb has done already.
 *
 * Both permission modes grant `--allow-ffi` (see SECURITY.md). Without it
 * {@linkcode libcIfPermitted} returns undefined and callers fall back to
 * Deno's APIs.
 *
 * @module
 */

/**
 * `syscall()` is variadic; each shape of call gets its own binding. Every
 * integer goes as i64, since glibc reads each argument as a `long`.
 */
const SYMBOLS = {
  errnoLocation: {
    name: "__errno_location",
    parameters: [],
    result: "pointer",
  },
  syscallBuffer: {
    name: "syscall",
    parameters: ["i64", "buffer", "i64", "i64"],
    result: "i64",
  },
  syscallIntBuffer: {
    name: "syscall",
    parameters: ["i64", "i64", "buffer", "i64", "i64"],
    result: "i64",
  },
  syscallIntIntBuffer: {
    name: "syscall",
    parameters: ["i64", "i64", "i64", "buffer", "i64"],
    result: "i64",
  },
  syscallInts: {
    name: "syscall",
    parameters: ["i64", "i64", "i64", "i64", "i64", "i64"],
    result: "i64",
  },
  kill: { name: "kill", parameters: ["i32", "i32"], result: "i32" },
} as const;

/** The bound libc functions. */
export type LibcSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let symbols: LibcSymbols | undefined;
let unavailable: Error | undefined;

/**
 * libc, opened on first use and kept.
 *
 * @returns The bound functions.
 * @throws {Error} When FFI is not permitted or libc cannot be loaded (the
 * same error on every call).
 */
export function libc(): LibcSymbols {
  if (symbols !== undefined) return symbols;
  if (unavailable !== undefined) throw unavailable;
  try {
    symbols = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
    return symbols;
  } catch (error) {
    unavailable = error instanceof Error ? error : new Error(String(error));
    throw unavailable;
  }
}

/**
 * libc when FFI is permitted and it loads, else undefined.
 *
 * @returns The bound functions or undefined.
 */
export function libcIfPermitted(): LibcSymbols | undefined {
  try {
    return libc();
  } catch {
    return undefined;
  }
}

/**
 * The calling thread's `errno`, right after a failed libc call.
 *
 * @returns The error number, 0 if it cannot be read.
 */
export function errno(): number {
  const location = libc().errnoLocation();
  return location === null
    ? 0
    : new Deno.UnsafePointerView(location).getInt32();
}

const ESRCH = 3;
const EPERM = 1;

/** Signal numbers (the same on x86_64 and aarch64). */
const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGINT: 2,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGTERM: 15,
};

/**
 * Sends a signal to one process, as `Deno.kill` does (same errors), through
 * libc's `kill(2)` where FFI is permitted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sendSignal } from "./libc.ts";
 * const child = new Deno.Command("sleep", { args: ["10"] }).spawn();
 * sendSignal(child.pid, "SIGTERM");
 * assert.equal((await child.status).signal, "SIGTERM");
 * ```
 *
 * @param pid A process id, positive (never a process group).
 * @param signal The signal.
 * @throws {Deno.errors.NotFound} When no such process exists (ESRCH).
 * @throws {Deno.errors.PermissionDenied} When it may not be signalled.
 */
export function sendSignal(pid: number, signal: Deno.Signal): void {
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw new TypeError(`invalid pid ${pid}`);
  }
  const number = SIGNAL_NUMBERS[signal];
  const lib = number === undefined ? undefined : libcIfPermitted();
  if (lib === undefined || number === undefined) {
    Deno.kill(pid, signal);
    return;
  }
  if (lib.kill(pid, number) === 0) return;
  const code = errno();
  if (code === ESRCH) {
    throw new Deno.errors.NotFound(`kill ${pid}: no such process`);
  }
  if (code === EPERM) {
    throw new Deno.errors.PermissionDenied(`kill ${pid}: not permitted`);
  }
  throw new Error(`kill ${pid} ${signal}: errno ${code}`);
}
