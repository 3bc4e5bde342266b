/**
 * The C library through Deno's FFI: the runtime's only native code (the
 * only `Deno.dlopen` caller; a test checks). It serves Landlock
 * (core/os/landlock.ts), spawning and locking for `create`
 * ({@linkcode spawnSession}, {@linkcode lockFile}), the proxy's signals
 * ({@linkcode openSignalQueue}), copying firmware out of a rootfs through
 * descriptors that never follow a symlink ({@linkcode openNoFollow}, for
 * core/firmware/rootfs.ts) and sending signals ({@linkcode sendSignal}): Deno's own
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
  syscallIntBufferInt: {
    name: "syscall",
    parameters: ["i64", "i64", "buffer", "i64"],
    result: "i64",
  },
  syscallSixInts: {
    name: "syscall",
    parameters: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"],
    result: "i64",
  },
  strerror: { name: "strerror", parameters: ["i32"], result: "pointer" },
  kill: { name: "kill", parameters: ["i32", "i32"], result: "i32" },
  close: { name: "close", parameters: ["i32"], result: "i32" },
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
 * A `sigset_t` (glibc's 128 bytes; the kernel reads the first 8) holding
 * the given signals.
 *
 * @param signals Signals that have a number in this module.
 * @returns The set.
 */
function sigset(signals: Deno.Signal[]): Uint8Array {
  const set = new Uint8Array(128);
  for (const signal of signals) {
    const number = SIGNAL_NUMBERS[signal];
    if (number === undefined) throw new TypeError(`no number for ${signal}`);
    set[(number - 1) >> 3]! |= 1 << ((number - 1) & 7);
  }
  return set;
}

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

/**
 * Processes, locks and signals: opened only by `create` and the proxy (a
 * second, cheap dlopen).
 */
const PROCESS_SYMBOLS = {
  posix_spawn: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  posix_spawnattr_setsigmask: {
    parameters: ["buffer", "buffer"],
    result: "i32",
  },
  posix_spawnattr_setsigdefault: {
    parameters: ["buffer", "buffer"],
    result: "i32",
  },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_adddup2: {
    parameters: ["buffer", "i32", "i32"],
    result: "i32",
  },
  posix_spawn_file_actions_addclose: {
    parameters: ["buffer", "i32"],
    result: "i32",
  },
  // Variadic; F_GETFD takes no third argument.
  fcntl: { parameters: ["i32", "i32"], result: "i32" },
  opendir: { parameters: ["buffer"], result: "pointer" },
  readdir: { parameters: ["pointer"], result: "pointer" },
  closedir: { parameters: ["pointer"], result: "i32" },
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  flock: { parameters: ["i32", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "u64"], result: "i64" },
  pthread_sigmask: { parameters: ["i32", "pointer", "buffer"], result: "i32" },
  signalfd: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
} as const;

type ProcessSymbols = Deno.DynamicLibrary<typeof PROCESS_SYMBOLS>["symbols"];
let processSymbols: ProcessSymbols | undefined;

// glibc's <spawn.h> flags; POSIX_SPAWN_SETSID needs glibc 2.26.
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const WNOHANG = 1;

/** The errors `execve(2)` gives for a file it will not run, by number. */
const EXEC_ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  7: "E2BIG",
  8: "ENOEXEC",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  20: "ENOTDIR",
  26: "ETXTBSY",
  40: "ELOOP",
};

/** `posix_spawn` failed: the child could not be started or could not exec. */
export class SpawnError extends Error {
  /**
   * @param exe The program.
   * @param errno What posix_spawn returned.
   */
  constructor(readonly exe: string, readonly errno: number) {
    super(
      `posix_spawn ${exe}: ${EXEC_ERRNO_NAMES[errno] ?? `errno ${errno}`}`,
    );
    this.name = "SpawnError";
  }
}

/** A child started by {@linkcode spawnSession}. */
export interface SessionChild {
  /** Its pid. */
  pid: number;
  /**
   * Its exit status if it has exited (it is then reaped), without waiting.
   *
   * @returns `{ code, signal }`, or undefined while it runs.
   */
  exited(): { code: number; signal: number } | undefined;
}

/**
 * A string as a NUL-terminated C string.
 *
 * @param text The string.
 * @returns Its UTF-8 bytes and a NUL.
 */
export function cString(text: string): Uint8Array {
  return new TextEncoder().encode(`${text}\0`);
}

function pointerArray(buffers: Uint8Array[]): BigUint64Array {
  const array = new BigUint64Array(buffers.length + 1);
  buffers.forEach((b, i) => {
    array[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
  });
  return array;
}

function processLibc(): ProcessSymbols | undefined {
  if (libcIfPermitted() === undefined) return undefined;
  try {
    processSymbols ??= Deno.dlopen("libc.so.6", PROCESS_SYMBOLS).symbols;
    return processSymbols;
  } catch {
    return undefined;
  }
}

// <fcntl.h>, <sys/file.h>: the same on x86_64 and aarch64, except
// O_NOFOLLOW, which arm64 moved (arch/arm64/include/uapi/asm/fcntl.h).
const O_RDWR = 0o2;
const O_CREAT = 0o100;
const O_NOFOLLOW = Deno.build.arch === "aarch64" ? 0o100000 : 0o400000;
const O_CLOEXEC = 0o2000000;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;

/** An open descriptor holding an exclusive `flock`. */
export interface HeldLock {
  /** The raw descriptor (close-on-exec). */
  fd: number;
  /** Closes this process's descriptor; the lock lives on in any child given it. */
  close(): void;
}

/**
 * Opens (creating, mode 0600) and exclusively `flock`s a file through libc,
 * so that the raw descriptor can be handed to a child
 * ({@linkcode spawnSession}'s `stdinFd`): the lock then belongs to the
 * child as long as it keeps the descriptor, whatever this process does.
 *
 * @param path The lock file (a symlink is refused).
 * @returns The held lock, or undefined where FFI is unavailable.
 * @throws {Error} When the file cannot be opened, or is locked already.
 */
export function lockFile(path: string): HeldLock | undefined {
  const lib = processLibc();
  if (lib === undefined) return undefined;
  const fd = lib.open(
    cString(path),
    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
    0o600,
  );
  if (fd < 0) throw new Error(`cannot open ${path}: errno ${errno()}`);
  if (lib.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    const code = errno();
    libc().close(fd);
    throw new Error(
      code === EWOULDBLOCK
        ? `${path} is locked`
        : `cannot lock ${path}: errno ${code}`,
    );
  }
  let open = true;
  return {
    fd,
    close() {
      if (open) libc().close(fd);
      open = false;
    },
  };
}

/**
 * Closes a descriptor Deno does not own (it cannot close 0, 1 or 2), such
 * as a lock handed over as stdin.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeDescriptor } from "./libc.ts";
 * assert.equal(closeDescriptor(-1), false); // EBADF
 * ```
 *
 * @param fd The descriptor.
 * @returns Whether it was closed (false where FFI is unavailable or on
 * error).
 */
export function closeDescriptor(fd: number): boolean {
  return libcIfPermitted()?.close(fd) === 0;
}

const F_GETFD = 1;
const FD_CLOEXEC = 1;
/** `struct dirent`'s `d_name` on glibc x86_64 and aarch64. */
const DIRENT_NAME_OFFSET = 19;

/**
 * This process's descriptors from `from` on that a child would inherit: open
 * and without close-on-exec. Deno opens all of its own close-on-exec, so
 * these are what this process itself inherited (an engine's pipes, a
 * shell's `exec 7>file`), plus stdio below 3. Listed from `/proc/self/fd`
 * through libc (Deno refuses `/proc` to anything less than `--allow-all`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inheritableDescriptors } from "./libc.ts";
 * const fds = inheritableDescriptors(0);
 * assert.ok(fds !== undefined && fds.includes(2)); // stderr
 * ```
 *
 * @param from The lowest descriptor to list.
 * @returns Ascending descriptors; undefined where FFI is unavailable.
 * @throws {Error} When `/proc/self/fd` cannot be listed.
 */
export function inheritableDescriptors(from: number): number[] | undefined {
  const lib = processLibc();
  if (lib === undefined) return undefined;
  const dir = lib.opendir(cString("/proc/self/fd"));
  if (dir === null) {
    throw new Error(`cannot list /proc/self/fd: errno ${errno()}`);
  }
  const open: number[] = [];
  try {
    for (
      let entry = lib.readdir(dir);
      entry !== null;
      entry = lib.readdir(dir)
    ) {
      const name = new Deno.UnsafePointerView(entry).getCString(
        DIRENT_NAME_OFFSET,
      );
      if (/^\d+$/.test(name)) open.push(Number(name));
    }
  } finally {
    lib.closedir(dir); // its own descriptor, close-on-exec, is gone now
  }
  return open.filter((fd) => fd >= from && isInheritable(lib, fd))
    .sort((a, b) => a - b);
}

/**
 * Whether a descriptor is open and would be inherited by a child (no
 * close-on-exec): what this process was handed rather than opened itself.
 *
 * @param fd The descriptor.
 * @returns The answer; undefined where FFI is unavailable.
 */
export function isInheritedDescriptor(fd: number): boolean | undefined {
  const lib = processLibc();
  return lib === undefined ? undefined : isInheritable(lib, fd);
}

function isInheritable(lib: ProcessSymbols, fd: number): boolean {
  const flags = lib.fcntl(fd, F_GETFD);
  return flags >= 0 && (flags & FD_CLOEXEC) === 0;
}

/** Options of {@linkcode spawnSession}. */
export interface SessionOptions {
  /** A descriptor to give the child as its stdin (else it inherits ours). */
  stdinFd?: number;
  /**
   * How many descriptors after stdio (3, 4, ...) the child gets, as runc's
   * `--preserve-fds` (default 0). Every other descriptor this process
   * would pass on is closed in the child.
   */
  passFds?: number;
  /**
   * Signals the child starts with blocked (else none), for it to take from
   * a {@linkcode openSignalQueue}: every thread it ever has inherits the
   * mask, so none of them can be handed these signals.
   */
  blockSignals?: Deno.Signal[];
}

/**
 * Starts a program in a new session (`setsid`), with this process's stdout,
 * stderr and environment, all signals at their defaults and none blocked
 * (but `blockSignals`):
 * what `new Deno.Command(exe, { args, detached: true }).spawn()` does,
 * through libc's `posix_spawn` (a `vfork`). It saves `create` about 10 ms:
 * Deno's first `Deno.Command` costs about 7 ms and a detached spawn forks
 * the whole runtime. It can also hand the child a descriptor as its stdin,
 * and close every descriptor but stdio (and `passFds`) in it, which Deno
 * cannot: a `Deno.Command` child inherits whatever this process inherited.
 *
 * The child is this process's; {@linkcode SessionChild.exited} reaps it.
 * Nothing else does until this process exits (a short-lived CLI).
 *
 * @param exe Absolute path of the program.
 * @param args Its arguments (without argv[0]).
 * @param options `stdinFd`, `passFds`, `blockSignals`.
 * @returns The child, or undefined where FFI or posix_spawn is unavailable
 * (the caller falls back to `Deno.Command`).
 * @throws {SpawnError} When posix_spawn fails.
 */
export function spawnSession(
  exe: string,
  args: string[],
  options: SessionOptions = {},
): SessionChild | undefined {
  const lib = processLibc();
  if (lib === undefined) return undefined;
  // posix_spawn_file_actions_t is 80 bytes on glibc x86_64 and aarch64.
  const actions = new Uint8Array(512);
  if (lib.posix_spawn_file_actions_init(actions) !== 0) return undefined;
  try {
    if (
      options.stdinFd !== undefined &&
      lib.posix_spawn_file_actions_adddup2(actions, options.stdinFd, 0) !== 0
    ) {
      throw new Error("posix_spawn_file_actions_adddup2 failed");
    }
    // Only stdio (and the passed ones) reach the child: a descriptor it
    // kept would hold an engine's pipe open for as long as it lives.
    for (const fd of inheritableDescriptors(3 + (options.passFds ?? 0))!) {
      if (lib.posix_spawn_file_actions_addclose(actions, fd) !== 0) {
        throw new Error(`posix_spawn_file_actions_addclose ${fd} failed`);
      }
    }
    return spawnWith(lib, exe, args, actions, options.blockSignals ?? []);
  } finally {
    lib.posix_spawn_file_actions_destroy(actions);
  }
}

function spawnWith(
  lib: ProcessSymbols,
  exe: string,
  args: string[],
  actions: Uint8Array,
  blocked: Deno.Signal[],
): SessionChild | undefined {
  // posix_spawnattr_t is 336 bytes on glibc x86_64 and aarch64.
  const attr = new Uint8Array(1024);
  if (lib.posix_spawnattr_init(attr) !== 0) return undefined;
  try {
    const flags = POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF |
      POSIX_SPAWN_SETSIGMASK;
    if (lib.posix_spawnattr_setflags(attr, flags) !== 0) return undefined;
    const all = new Uint8Array(128).fill(0xff); // sigset_t
    lib.posix_spawnattr_setsigmask(attr, sigset(blocked));
    lib.posix_spawnattr_setsigdefault(attr, all);
    const argv = [exe, ...args].map(cString);
    const envp = Object.entries(Deno.env.toObject()).map(([k, v]) =>
      cString(`${k}=${v}`)
    );
    const pid = new Int32Array(1);
    const path = cString(exe);
    const error = lib.posix_spawn(
      new Uint8Array(pid.buffer),
      path,
      actions,
      attr,
      new Uint8Array(pointerArray(argv).buffer),
      new Uint8Array(pointerArray(envp).buffer),
    );
    // argv and envp must stay reachable until posix_spawn returned.
    void [argv, envp, path];
    if (error !== 0) throw new SpawnError(exe, error);
    const child = pid[0]!;
    let status: { code: number; signal: number } | undefined;
    const raw = new Int32Array(1);
    return {
      pid: child,
      exited() {
        if (status !== undefined) return status;
        if (lib.waitpid(child, new Uint8Array(raw.buffer), WNOHANG) !== child) {
          return undefined;
        }
        const w = raw[0]!;
        status = (w & 0x7f) === 0
          ? { code: (w >> 8) & 0xff, signal: 0 }
          : { code: 128 + (w & 0x7f), signal: w & 0x7f };
        return status;
      },
    };
  } finally {
    lib.posix_spawnattr_destroy(attr);
  }
}

/** Signals taken from a descriptor instead of handlers. */
export interface SignalQueue {
  /**
   * Blocks the thread until one of the signals is pending or `timeoutMs`
   * passed (-1: no limit), without running Deno's event loop, and takes it.
   * Allocates nothing.
   *
   * @param timeoutMs Longest wait, ms; -1 waits for a signal.
   * @returns The signal, or undefined when the time passed first.
   */
  wait(timeoutMs: number): Deno.Signal | undefined;
  /** Closes the descriptor (the signals stay blocked). */
  close(): void;
}

const SIG_BLOCK = 0;
const SFD_NONBLOCK = 0o4000;
const SFD_CLOEXEC = 0o2000000;
const POLLIN = 1;

/**
 * A `signalfd(2)` for signals this process was started with blocked
 * ({@linkcode spawnSession}'s `blockSignals`). Waiting on it is a plain
 * `poll(2)`: an idle proxy that sleeps there and looks at `state` every
 * 60 ms uses about 0.3 % of one core (0.27-0.32 % over 60 s in
 * BENCHMARKS.md; `perf stat` over 30 s, finer: 0.23 % against 0.28 % for a
 * bare Deno `setInterval` at the same period, which turns the whole event
 * loop and wakes twice per period, and 0.41 % for the proxy on Deno's
 * timers and signal listeners).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openSignalQueue } from "./libc.ts";
 * // Nothing started this test with SIGUSR1 blocked: no queue.
 * assert.equal(openSignalQueue(["SIGUSR1"]), undefined);
 * ```
 *
 * @param signals The signals to take.
 * @returns The queue; undefined where FFI is unavailable or not every one
 * of the signals is blocked (handle them with Deno's listeners then).
 * @throws {Error} When `signalfd` fails.
 */
export function openSignalQueue(
  signals: Deno.Signal[],
): SignalQueue | undefined {
  const lib = processLibc();
  if (lib === undefined) return undefined;
  const wanted = sigset(signals);
  const blocked = new Uint8Array(128);
  if (lib.pthread_sigmask(SIG_BLOCK, null, blocked) !== 0) return undefined;
  if (wanted.some((bits, i) => (bits & blocked[i]!) !== bits)) {
    return undefined;
  }
  const fd = lib.signalfd(-1, wanted, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) throw new Error(`signalfd: errno ${errno()}`);
  const names = new Map<number, Deno.Signal>(
    signals.map((s) => [SIGNAL_NUMBERS[s]!, s]),
  );
  // struct pollfd { int fd; short events; short revents; }
  const pollfd = new Uint8Array(8);
  const view = new DataView(pollfd.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, POLLIN, true);
  // struct signalfd_siginfo: 128 bytes, ssi_signo first.
  const info = new Uint8Array(128);
  const infoView = new DataView(info.buffer);
  let open = true;
  return {
    wait(timeoutMs) {
      if (lib.poll(pollfd, 1n, timeoutMs) <= 0) return undefined; // or EINTR
      if (lib.read(fd, info, 128n) !== 128n) return undefined;
      return names.get(infoView.getUint32(0, true));
    },
    close() {
      if (open) libc().close(fd);
      open = false;
    },
  };
}

/**
 * An errno from a system call made here, shaped as Deno's own errors: `code`
 * is its name (`ELOOP`), the message libc's text for it.
 */
export class ErrnoError extends Error {
  /** The errno's name, as Deno's errors carry it. */
  readonly code: string;
  /**
   * Creates the error.
   *
   * @param errnoValue The error number.
   */
  constructor(readonly errnoValue: number) {
    super(errnoDescription(errnoValue));
    this.name = "ErrnoError";
    this.code = ERRNO_NAMES[errnoValue] ?? `errno ${errnoValue}`;
  }
}

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  5: "EIO",
  6: "ENXIO",
  9: "EBADF",
  12: "ENOMEM",
  13: "EACCES",
  17: "EEXIST",
  19: "ENODEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  27: "EFBIG",
  28: "ENOSPC",
  30: "EROFS",
  36: "ENAMETOOLONG",
  38: "ENOSYS",
  40: "ELOOP",
  122: "EDQUOT",
};

function errnoDescription(value: number): string {
  const text = libc().strerror(value);
  return text === null
    ? `errno ${value}`
    : new Deno.UnsafePointerView(text).getCString();
}

/**
 * System call numbers of the descriptor calls: x86_64 has its own table,
 * aarch64 the generic one. `statModeOffset` is where `st_mode` lies in
 * `struct stat` (x86_64 puts `st_nlink` before it); `st_dev`, `st_ino` and
 * `st_size` lie at 0, 8 and 48 on both.
 */
const FILE_CALLS: Readonly<
  Record<string, {
    openat: number;
    fstat: number;
    read: number;
    write: number;
    fchmod: number;
    copyFileRange: number;
    oDirectory: number;
    statModeOffset: number;
  }>
> = {
  x86_64: {
    openat: 257,
    fstat: 5,
    read: 0,
    write: 1,
    fchmod: 91,
    copyFileRange: 326,
    oDirectory: 0o200000,
    statModeOffset: 24,
  },
  aarch64: {
    openat: 56,
    fstat: 80,
    read: 63,
    write: 64,
    fchmod: 52,
    copyFileRange: 285,
    oDirectory: 0o40000,
    statModeOffset: 16,
  },
};

function fileCalls() {
  const calls = FILE_CALLS[Deno.build.arch];
  if (calls === undefined) {
    throw new Error(`no system call numbers for ${Deno.build.arch}`);
  }
  return calls;
}

const AT_FDCWD = -100;
const O_PATH = 0o10000000;
const O_NONBLOCK = 0o4000;
const O_NOCTTY = 0o400;
const O_WRONLY = 0o1;
const O_EXCL = 0o200;
const EINTR = 4;
const S_IFMT = 0o170000;
/** copy_file_range's answers that mean "not between these two files". */
const NO_KERNEL_COPY = new Set([18, 22, 38, 95]); // EXDEV EINVAL ENOSYS EOPNOTSUPP

/**
 * How {@linkcode openNoFollow} opens: `directory` and `path` give an
 * `O_PATH` descriptor (good for `*at` calls and {@linkcode statDescriptor},
 * not for reading; `directory` fails with `ENOTDIR` on anything else),
 * `read` opens for reading, non-blocking and without taking a terminal, so
 * that a FIFO or device swapped in cannot hang or claim anything.
 */
export type OpenKind = "directory" | "path" | "read";

/**
 * Opens a file with `O_NOFOLLOW | O_CLOEXEC`: when the last component is a
 * symlink, `directory` fails with `ENOTDIR`, `read` with `ELOOP`, and
 * `path` opens the link itself ({@linkcode statDescriptor} then says so).
 * Earlier components of `name` are followed, so callers walk one component
 * at a time.
 *
 * @example Refusing a symlink
 * ```ts
 * import assert from "node:assert/strict";
 * import { ErrnoError, openNoFollow } from "./libc.ts";
 * import { makeSymlinks } from "../../sim/symlinks.ts";
 * const dir = Deno.makeTempDirSync();
 * makeSymlinks([["/etc", `${dir}/link`]]);
 * assert.throws(() => openNoFollow(undefined, `${dir}/link`, "directory"), ErrnoError);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @param dir A directory descriptor `name` is relative to; undefined for an
 * absolute `name`.
 * @param name The file.
 * @param kind How to open it.
 * @returns The descriptor; close it with {@linkcode closeDescriptor}.
 * @throws {ErrnoError} When the kernel refuses.
 * @throws {Error} When FFI is not permitted.
 */
export function openNoFollow(
  dir: number | undefined,
  name: string,
  kind: OpenKind,
): number {
  const calls = fileCalls();
  const flags = O_CLOEXEC | O_NOFOLLOW | (
    kind === "read"
      ? O_NONBLOCK | O_NOCTTY
      : O_PATH | (kind === "directory" ? calls.oDirectory : 0)
  );
  const fd = Number(
    libc().syscallIntBuffer(
      BigInt(calls.openat),
      BigInt(dir ?? AT_FDCWD),
      cString(name),
      BigInt(flags),
      0n,
    ),
  );
  if (fd < 0) throw new ErrnoError(errno());
  return fd;
}

/** What `fstat(2)` says of a descriptor. */
export interface DescriptorInfo {
  /** `st_dev`, as `Deno.FileInfo.dev` gives it. */
  dev: number;
  /** `st_ino`. */
  ino: number;
  /** `st_mode`, type bits included. */
  mode: number;
  /** `st_size`. */
  size: number;
  /** A regular file. */
  isFile: boolean;
  /** A directory. */
  isDirectory: boolean;
  /** A symlink (only an `O_PATH | O_NOFOLLOW` descriptor can be one). */
  isSymlink: boolean;
}

/**
 * `fstat(2)` of a descriptor (an `O_PATH` one too).
 *
 * @param fd The descriptor.
 * @returns Its device, inode, mode and size.
 * @throws {ErrnoError} When the kernel refuses.
 */
export function statDescriptor(fd: number): DescriptorInfo {
  const calls = fileCalls();
  const buffer = new Uint8Array(256); // struct stat: 144 bytes on x86_64
  const result = Number(
    libc().syscallIntBufferInt(BigInt(calls.fstat), BigInt(fd), buffer, 0n),
  );
  if (result < 0) throw new ErrnoError(errno());
  const view = new DataView(buffer.buffer);
  const mode = view.getUint32(calls.statModeOffset, true);
  const type = mode & S_IFMT;
  return {
    dev: Number(view.getBigUint64(0, true)),
    ino: Number(view.getBigUint64(8, true)),
    mode,
    size: Number(view.getBigInt64(48, true)),
    isFile: type === 0o100000,
    isDirectory: type === 0o040000,
    isSymlink: type === 0o120000,
  };
}

/** `read(2)` into a buffer, retried on `EINTR`; 0 at the end of the file. */
function readDescriptor(fd: number, buffer: Uint8Array): number {
  const calls = fileCalls();
  for (;;) {
    const n = Number(
      libc().syscallIntBufferInt(
        BigInt(calls.read),
        BigInt(fd),
        buffer,
        BigInt(buffer.length),
      ),
    );
    if (n >= 0) return n;
    const code = errno();
    if (code !== EINTR) throw new ErrnoError(code);
  }
}

/**
 * Creates a new file for writing (`O_CREAT | O_EXCL | O_NOFOLLOW`: never
 * an existing file, never through a symlink) and sets its mode to exactly
 * `mode`, whatever the umask.
 *
 * @param path The file.
 * @param mode Its permission bits.
 * @returns The descriptor; close it with {@linkcode closeDescriptor}.
 * @throws {ErrnoError} When the kernel refuses (`EEXIST` for an existing
 * file).
 */
export function createExclusive(path: string, mode: number): number {
  const calls = fileCalls();
  const lib = libc();
  const fd = Number(lib.syscallIntBuffer(
    BigInt(calls.openat),
    BigInt(AT_FDCWD),
    cString(path),
    BigInt(O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC),
    BigInt(mode),
  ));
  if (fd < 0) throw new ErrnoError(errno());
  const chmod = Number(
    lib.syscallInts(BigInt(calls.fchmod), BigInt(fd), BigInt(mode), 0n, 0n, 0n),
  );
  if (chmod < 0) {
    const code = errno();
    lib.close(fd);
    throw new ErrnoError(code);
  }
  return fd;
}

/**
 * Copies from one descriptor's offset to another's until the end of the
 * source or `limit` bytes, through the kernel (`copy_file_range`, which
 * may share extents); between files it cannot serve, through a buffer.
 *
 * @param from A descriptor opened for reading.
 * @param to A descriptor opened for writing.
 * @param limit Most bytes to copy.
 * @returns How many bytes were copied.
 * @throws {ErrnoError} When the kernel refuses.
 */
export function copyDescriptor(
  from: number,
  to: number,
  limit: number,
): number {
  const calls = fileCalls();
  const lib = libc();
  let total = 0;
  while (total < limit) {
    const n = Number(lib.syscallSixInts(
      BigInt(calls.copyFileRange),
      BigInt(from),
      0n,
      BigInt(to),
      0n,
      BigInt(Math.min(limit - total, 1 << 30)),
      0n,
    ));
    if (n === 0) return total;
    if (n > 0) {
      total += n;
      continue;
    }
    const code = errno();
    if (code === EINTR) continue;
    if (total === 0 && NO_KERNEL_COPY.has(code)) {
      return copyThroughBuffer(from, to, limit);
    }
    throw new ErrnoError(code);
  }
  return total;
}

function copyThroughBuffer(from: number, to: number, limit: number): number {
  const calls = fileCalls();
  const buffer = new Uint8Array(1 << 20);
  let total = 0;
  while (total < limit) {
    const chunk = buffer.subarray(0, Math.min(buffer.length, limit - total));
    const n = readDescriptor(from, chunk);
    if (n === 0) break;
    for (let written = 0; written < n;) {
      const w = Number(
        libc().syscallIntBufferInt(
          BigInt(calls.write),
          BigInt(to),
          chunk.subarray(written, n),
          BigInt(n - written),
        ),
      );
      if (w < 0) {
        const code = errno();
        if (code !== EINTR) throw new ErrnoError(code);
      } else written += w;
    }
    total += n;
  }
  return total;
}
