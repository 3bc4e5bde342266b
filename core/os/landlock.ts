/**
 * Filesystem self-confinement with the Linux Landlock LSM.
 *
 * The runtime runs as root with `--allow-all` (Deno refuses `/sys` and
 * `/proc` to anything less), so Deno's own permissions cannot narrow what it
 * may touch. {@linkcode restrictSelf} asks the kernel instead: after it
 * returns `enforced: true`, the calling thread and every thread and process
 * it creates afterwards can only read, write or execute beneath the paths the
 * caller named. Nothing undoes that, not even root.
 *
 * Compatibility is "best effort", as the kernel documentation recommends: the
 * ruleset handles every filesystem right that the running kernel's Landlock
 * ABI knows ({@linkcode handledAccessFs}), and a kernel without Landlock
 * yields `enforced: false` with a reason instead of an error.
 *
 * Limits worth knowing:
 * - Below ABI 8 the kernel confines only the calling thread and the threads
 *   and processes it creates afterwards. In Deno that covers the `*Sync` file
 *   calls and module loading, which run on the main thread, and every process
 *   spawned afterwards (all of its threads). It does not cover the async file
 *   calls (`Deno.writeFile`, `Deno.readTextFile`, `Deno.open`, ...): they run
 *   on Tokio's blocking pool, whose threads exist from start-up and stay
 *   unconfined. After confining, use the sync calls, or do the work in a
 *   spawned child. The result's `allThreads` says which case applies: from
 *   ABI 8 on, `LANDLOCK_RESTRICT_SELF_TSYNC` confines every thread.
 * - Call it on the main thread: from a `Worker` it confines that worker only.
 * - Files opened before the call stay usable; Landlock checks at `open`, and
 *   Deno loads statically known imports (literal `import("./x.ts")` too)
 *   at start-up, before any confinement.
 * - `stat`, `readlink`, `chmod`, `chown`, `utime` and most `ioctl`s are not
 *   restricted by Landlock at all.
 *
 * Syscalls go through libc's `syscall()` by FFI (`--allow-ffi`, core/os/libc.ts).
 * The library is loaded the first time a function here needs it, so
 * importing this module costs nothing.
 *
 * @module
 */

import { dirname, fileURLToPath } from "../util/posix_path.ts";
import { RuntimeError } from "../util/errors.ts";
import { projectUrl } from "../util/lazy.ts";
import { cString, errno, libc } from "./libc.ts";

/**
 * Landlock filesystem access rights (`LANDLOCK_ACCESS_FS_*` in
 * `include/uapi/linux/landlock.h`), as bit masks.
 *
 * @example Combining rights
 * ```ts
 * import { AccessFs } from "./landlock.ts";
 *
 * const readOnly = AccessFs.READ_FILE | AccessFs.READ_DIR;
 * console.log(readOnly === 12n); // true
 * ```
 */
export const AccessFs = {
  /** Execute a file (ABI 1). */
  EXECUTE: 1n << 0n,
  /** Open a file for writing (ABI 1). */
  WRITE_FILE: 1n << 1n,
  /** Open a file for reading (ABI 1). */
  READ_FILE: 1n << 2n,
  /** Open or list a directory (ABI 1). */
  READ_DIR: 1n << 3n,
  /** Remove or rename an empty directory (ABI 1). */
  REMOVE_DIR: 1n << 4n,
  /** Unlink or rename a file (ABI 1). */
  REMOVE_FILE: 1n << 5n,
  /** Create a character device (ABI 1). */
  MAKE_CHAR: 1n << 6n,
  /** Create a directory (ABI 1). */
  MAKE_DIR: 1n << 7n,
  /** Create a regular file (ABI 1). */
  MAKE_REG: 1n << 8n,
  /** Create a UNIX domain socket (ABI 1). */
  MAKE_SOCK: 1n << 9n,
  /** Create a named pipe (ABI 1). */
  MAKE_FIFO: 1n << 10n,
  /** Create a block device (ABI 1). */
  MAKE_BLOCK: 1n << 11n,
  /** Create a symbolic link (ABI 1). */
  MAKE_SYM: 1n << 12n,
  /** Link or rename a file into another directory (ABI 2). */
  REFER: 1n << 13n,
  /** Truncate a file, including `open` with `O_TRUNC` (ABI 3). */
  TRUNCATE: 1n << 14n,
  /** `ioctl` on a character or block device opened afterwards (ABI 5). */
  IOCTL_DEV: 1n << 15n,
} as const;

const ABI_1_RIGHTS = (1n << 13n) - 1n;

/** Rights that a rule on a file (not a directory) may carry. */
const FILE_RIGHTS = AccessFs.EXECUTE | AccessFs.WRITE_FILE |
  AccessFs.READ_FILE | AccessFs.TRUNCATE | AccessFs.IOCTL_DEV;

const READ_RIGHTS = AccessFs.READ_FILE | AccessFs.READ_DIR;

const EXECUTE_RIGHTS = AccessFs.EXECUTE | READ_RIGHTS;

/**
 * Everything that changes the tree or a file's content, except creating
 * device nodes: the runtime never needs `mknod`, so no rule can grant it.
 */
const WRITE_RIGHTS = AccessFs.WRITE_FILE | AccessFs.TRUNCATE |
  AccessFs.IOCTL_DEV | AccessFs.REMOVE_DIR | AccessFs.REMOVE_FILE |
  AccessFs.MAKE_DIR | AccessFs.MAKE_REG | AccessFs.MAKE_SYM |
  AccessFs.MAKE_SOCK | AccessFs.MAKE_FIFO | AccessFs.REFER;

/** Granted on the parent of a write path that does not exist yet. */
const CREATE_FILE_RIGHTS = AccessFs.MAKE_REG | AccessFs.WRITE_FILE |
  AccessFs.TRUNCATE;

const LANDLOCK_CREATE_RULESET_VERSION = 1;
const LANDLOCK_RULE_PATH_BENEATH = 1;
const LANDLOCK_RESTRICT_SELF_TSYNC = 1 << 3;
const PR_SET_NO_NEW_PRIVS = 38;

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  7: "E2BIG",
  9: "EBADF",
  13: "EACCES",
  20: "ENOTDIR",
  14: "EFAULT",
  22: "EINVAL",
  36: "ENAMETOOLONG",
  38: "ENOSYS",
  40: "ELOOP",
  42: "ENOMSG",
  95: "EOPNOTSUPP",
};
const ENOENT = 2;
const ENOTDIR = 20;
const ENAMETOOLONG = 36;
const ENOSYS = 38;
const EOPNOTSUPP = 95;

/**
 * The system calls {@linkcode restrictSelf} makes, so that tests can swap in
 * a fake. Each returns what the kernel returns: a non-negative result, or a
 * negated `errno` (`-38` for `ENOSYS`).
 *
 * @example A kernel without Landlock
 * ```ts
 * import { type LandlockSyscalls, restrictSelf } from "./landlock.ts";
 *
 * const noLandlock: LandlockSyscalls = {
 *   createRuleset: () => -38,
 *   addRule: () => -38,
 *   restrictSelf: () => -38,
 *   setNoNewPrivs: () => 0,
 *   openPath: () => -38,
 *   close: () => {},
 * };
 * const status = restrictSelf({ read: ["/"] }, { syscalls: noLandlock });
 * console.log(status.enforced); // false
 * ```
 */
export interface LandlockSyscalls {
  /**
   * `landlock_create_ruleset(attr, attr.length, flags)`; with `attr` null the
   * size is 0 (the form that asks for the ABI version).
   */
  createRuleset(attr: Uint8Array | null, flags: number): number;
  /** `landlock_add_rule(rulesetFd, ruleType, attr, 0)`. */
  addRule(rulesetFd: number, ruleType: number, attr: Uint8Array): number;
  /** `landlock_restrict_self(rulesetFd, flags)`. */
  restrictSelf(rulesetFd: number, flags: number): number;
  /** `prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)`. */
  setNoNewPrivs(): number;
  /**
   * `openat(AT_FDCWD, path, O_PATH | O_CLOEXEC)`, with `O_DIRECTORY` when
   * `directory` is true (then a file fails with `-ENOTDIR`) and
   * `O_NOFOLLOW` when `noFollow` is (then, with `directory`, a symlink
   * fails with `-ENOTDIR` too).
   */
  openPath(path: string, directory: boolean, noFollow?: boolean): number;
  /** `close(fd)`. */
  close(fd: number): void;
}

/** The paths {@linkcode restrictSelf} allows, by kind of access. */
export interface LandlockRules {
  /** Read files and list directories beneath these paths. */
  read?: readonly string[];
  /** Read, list and execute beneath these paths (binaries, the loader). */
  execute?: readonly string[];
  /**
   * Create, write, truncate, remove, rename and `ioctl` devices beneath these
   * paths, without reading. A path that does not exist yet is taken as a
   * file to be created: its parent directory gets the rights to create and
   * write regular files (any name in it, Landlock cannot name one).
   */
  write?: readonly string[];
  /** Both `read` and `write`. Missing paths as for `write`. */
  readWrite?: readonly string[];
  /**
   * Directories among the paths above whose rule must be on the directory
   * itself: they are opened without following a symlink, and one that is a
   * symlink (or no directory) gets no rule and is reported as skipped. For
   * paths an untrusted party could replace with a link (a rootfs).
   */
  noFollow?: readonly string[];
}

/** Options of {@linkcode restrictSelf} and {@linkcode landlockAbi}. */
export interface LandlockOptions {
  /** System call layer; the default calls libc through FFI. */
  syscalls?: LandlockSyscalls;
}

/** What {@linkcode restrictSelf} did. */
export interface LandlockStatus {
  /** Whether the restriction is now in force. */
  enforced: boolean;
  /** The kernel's Landlock ABI version, 0 where Landlock is unavailable. */
  abi: number;
  /**
   * Whether every thread of the process is confined (ABI 8 and later), not
   * only the calling thread and what it creates afterwards.
   */
  allThreads: boolean;
  /** Paths that were not found and got no rule (nor their parent). */
  skipped: string[];
  /** Why the restriction is not in force, where `enforced` is false. */
  reason?: string;
}

/**
 * The Landlock ABI version of the running kernel, or 0 where Landlock is not
 * available (not Linux, kernel built without it, disabled at boot, or libc
 * not loadable).
 *
 * @param options `syscalls` replaces the libc layer (tests).
 * @returns The ABI version, 0 if unavailable.
 *
 * @example Checking for Landlock
 * ```ts ignore
 * import { landlockAbi } from "./landlock.ts";
 *
 * if (landlockAbi() >= 3) console.log("truncation can be restricted");
 * ```
 */
export function landlockAbi(options: LandlockOptions = {}): number {
  const probe = probeAbi(options.syscalls);
  return probe.abi;
}

/**
 * The filesystem rights that a ruleset handles (denies unless a rule allows
 * them) on a kernel with the given Landlock ABI: the ABI 1 set, plus `REFER`
 * from ABI 2, `TRUNCATE` from ABI 3 and `IOCTL_DEV` from ABI 5. ABI 4 and 6
 * to 8 added no filesystem right.
 *
 * @param abi A Landlock ABI version.
 * @returns The handled rights, `0n` for an ABI below 1.
 *
 * @example Masking rights for an old kernel
 * ```ts
 * import { AccessFs, handledAccessFs } from "./landlock.ts";
 *
 * console.log((handledAccessFs(2) & AccessFs.TRUNCATE) === 0n); // true
 * ```
 */
export function handledAccessFs(abi: number): bigint {
  if (abi < 1) return 0n;
  let rights = ABI_1_RIGHTS;
  if (abi >= 2) rights |= AccessFs.REFER;
  if (abi >= 3) rights |= AccessFs.TRUNCATE;
  if (abi >= 5) rights |= AccessFs.IOCTL_DEV;
  return rights;
}

/**
 * Confines the calling thread, and every thread and process it creates
 * afterwards, to the given paths. All filesystem rights the kernel knows are
 * denied except those the rules grant; the grant covers the path and
 * everything beneath it. A rule on a file (not a directory) keeps only the
 * rights a file can have. Also sets `no_new_privs`, so set-user-ID binaries
 * no longer raise privileges.
 *
 * A Deno process needs, besides its own paths: `execute` on `Deno.execPath()`
 * (and on the loader and libraries if it spawns programs: `/lib`, `/usr`),
 * `read` on its module files, `node_modules` and `DENO_DIR`, and `read` on
 * `/dev/null` and `/dev/urandom` ({@linkcode defaultReadPaths}). Below ABI 8
 * Deno's async file calls escape the restriction (`allThreads: false`): see
 * the module documentation.
 *
 * @param rules The paths to allow, by kind of access.
 * @param options `syscalls` replaces the libc layer (tests).
 * @returns `enforced: true`, or `enforced: false` with a `reason` where the
 * kernel offers no Landlock (the caller logs it and goes on).
 * @throws {TypeError} If a path is empty.
 * @throws {RuntimeError} If Landlock is available but the kernel refused a
 * step: a rule, `no_new_privs`, or the restriction itself.
 *
 * @example Writing only to a state directory
 * ```ts ignore
 * import { restrictSelf } from "./landlock.ts";
 *
 * const status = restrictSelf({
 *   execute: [Deno.execPath()],
 *   read: [Deno.cwd(), "/etc", "/dev/null", "/dev/urandom"],
 *   readWrite: ["/run/remoteproc-runtime"],
 * });
 * if (!status.enforced) console.warn(`running unconfined: ${status.reason}`);
 * ```
 */
export function restrictSelf(
  rules: LandlockRules,
  options: LandlockOptions = {},
): LandlockStatus {
  const requested = requestedRules(rules);
  const probe = probeAbi(options.syscalls);
  if (probe.syscalls === undefined || probe.abi < 1) {
    return {
      enforced: false,
      abi: 0,
      allThreads: false,
      skipped: [],
      reason: probe.reason,
    };
  }
  const sys = probe.syscalls;
  const abi = probe.abi;
  const handled = handledAccessFs(abi);
  const skipped: string[] = [];

  const attr = new Uint8Array(8);
  new DataView(attr.buffer).setBigUint64(0, handled, true);
  const rulesetFd = sys.createRuleset(attr, 0);
  if (rulesetFd < 0) {
    if (-rulesetFd === ENOSYS || -rulesetFd === EOPNOTSUPP) {
      return {
        enforced: false,
        abi,
        allThreads: false,
        skipped: [],
        reason: `landlock_create_ruleset failed: ${errnoName(-rulesetFd)}`,
      };
    }
    throw new RuntimeError(
      `cannot create landlock ruleset: ${errnoName(-rulesetFd)}`,
    );
  }
  try {
    for (const rule of requested) {
      if (!addPathRule(sys, rulesetFd, rule, handled)) skipped.push(rule.path);
    }
    const nnp = sys.setNoNewPrivs();
    if (nnp < 0) {
      throw new RuntimeError(
        `cannot set no_new_privs: ${errnoName(-nnp)}`,
      );
    }
    const allThreads = abi >= 8;
    const flags = allThreads ? LANDLOCK_RESTRICT_SELF_TSYNC : 0;
    const restricted = sys.restrictSelf(rulesetFd, flags);
    if (restricted < 0) {
      throw new RuntimeError(
        `cannot enforce landlock ruleset: ${errnoName(-restricted)}`,
      );
    }
    return { enforced: true, abi, allThreads, skipped };
  } finally {
    sys.close(rulesetFd);
  }
}

/**
 * The paths a running Deno program reads after it confined itself: the
 * project checkout (sources, the bundle in `dist/js`, `node_modules` and
 * `deno.json`, for modules imported later and a spawned proxy), the Deno
 * cache (`DENO_DIR`), the Deno binary, `/dev/null` (spawning with
 * `stdin: "null"` opens it) and `/dev/urandom`. Pass them as
 * `read`; the caller adds its own paths. Deno tries to write transpiled
 * modules to `DENO_DIR/gen` and goes on without when refused.
 *
 * @returns Absolute paths; some may not exist ({@linkcode restrictSelf} skips
 * those).
 *
 * @example Confining reads to what Deno needs plus /etc
 * ```ts ignore
 * import { defaultReadPaths, restrictSelf } from "./landlock.ts";
 *
 * restrictSelf({ read: [...defaultReadPaths(), "/etc"] });
 * ```
 */
export function defaultReadPaths(): string[] {
  const paths = [Deno.execPath(), "/dev/null", "/dev/urandom"];
  const project = projectUrl("./");
  if (project.protocol === "file:") {
    paths.unshift(fileURLToPath(project).replace(/(.)\/$/, "$1"));
  }
  const denoDir = Deno.env.get("DENO_DIR");
  const cacheHome = Deno.env.get("XDG_CACHE_HOME");
  const home = Deno.env.get("HOME");
  if (denoDir) paths.push(denoDir);
  else if (cacheHome) paths.push(`${cacheHome}/deno`);
  else if (home) paths.push(`${home}/.cache/deno`);
  return paths;
}

interface PathRule {
  path: string;
  access: bigint;
  noFollow: boolean;
}

function requestedRules(rules: LandlockRules): PathRule[] {
  const noFollow = new Set(rules.noFollow ?? []);
  const sets: [readonly string[] | undefined, bigint][] = [
    [rules.read, READ_RIGHTS],
    [rules.execute, EXECUTE_RIGHTS],
    [rules.write, WRITE_RIGHTS],
    [rules.readWrite, READ_RIGHTS | WRITE_RIGHTS],
  ];
  const requested: PathRule[] = [];
  for (const [paths, access] of sets) {
    for (const path of paths ?? []) {
      if (path === "") throw new TypeError("Landlock rule path is empty");
      requested.push({ path, access, noFollow: noFollow.has(path) });
    }
  }
  return requested;
}

/**
 * Adds one rule, masked to the handled rights and to what its target can
 * carry: a file keeps only file rights, and a missing write path sends its
 * parent directory the rights to create files. The target is classified by
 * opening it (`O_PATH`, first with `O_DIRECTORY`), not by `stat`: one or two
 * syscalls, and no Deno permission check (Deno refuses `stat` on `/proc`
 * without `--allow-all`).
 *
 * @returns False when the path (and, for a write path, its parent) is
 * missing, or too long to exist: the rule is skipped.
 */
function addPathRule(
  sys: LandlockSyscalls,
  rulesetFd: number,
  rule: PathRule,
  handled: bigint,
): boolean {
  let access = rule.access & handled;
  let fd = sys.openPath(rule.path, true, rule.noFollow);
  if (rule.noFollow && fd === -ENOTDIR) return false;
  if (fd === -ENOTDIR) {
    fd = sys.openPath(rule.path, false);
    access &= FILE_RIGHTS;
  } else if (fd === -ENOENT && (rule.access & AccessFs.WRITE_FILE) !== 0n) {
    fd = sys.openPath(dirname(rule.path), true);
    access = (CREATE_FILE_RIGHTS | (rule.access & AccessFs.READ_FILE)) &
      handled;
  }
  if (fd === -ENOENT || fd === -ENOTDIR || fd === -ENAMETOOLONG) return false;
  if (fd < 0) {
    throw new RuntimeError(
      `cannot open landlock rule path ${rule.path}: ${errnoName(-fd)}`,
    );
  }
  try {
    if (access === 0n) return true;
    // struct landlock_path_beneath_attr is packed: u64 allowed_access, s32 fd.
    const attr = new Uint8Array(12);
    const view = new DataView(attr.buffer);
    view.setBigUint64(0, access, true);
    view.setInt32(8, fd, true);
    const added = sys.addRule(rulesetFd, LANDLOCK_RULE_PATH_BENEATH, attr);
    if (added < 0) {
      throw new RuntimeError(
        `cannot add landlock rule for ${rule.path}: ${errnoName(-added)}`,
      );
    }
    return true;
  } finally {
    sys.close(fd);
  }
}

interface AbiProbe {
  abi: number;
  syscalls: LandlockSyscalls | undefined;
  reason: string;
}

function probeAbi(syscalls: LandlockSyscalls | undefined): AbiProbe {
  let sys = syscalls;
  if (sys === undefined) {
    if (Deno.build.os !== "linux") {
      return { abi: 0, syscalls: undefined, reason: "Landlock needs Linux" };
    }
    try {
      sys = libcSyscalls();
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return {
        abi: 0,
        syscalls: undefined,
        reason: `cannot call libc for Landlock: ${detail}`,
      };
    }
  }
  const abi = sys.createRuleset(null, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi >= 1) return { abi, syscalls: sys, reason: "" };
  const reason = -abi === ENOSYS
    ? "kernel has no Landlock (ENOSYS)"
    : -abi === EOPNOTSUPP
    ? "Landlock is disabled at boot (EOPNOTSUPP)"
    : `Landlock ABI probe failed: ${errnoName(-abi)}`;
  return { abi: 0, syscalls: sys, reason };
}

function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

interface SyscallNumbers {
  openat: number;
  /** `O_DIRECTORY`: arm64 moved it (asm/fcntl.h). */
  oDirectory: number;
  /** `O_NOFOLLOW`: arm64 moved it too. */
  oNoFollow: number;
  prctl: number;
  createRuleset: number;
  addRule: number;
  restrictSelf: number;
}

/**
 * x86_64 has its own table; aarch64 uses the generic one. The Landlock calls
 * came after the tables were unified (424 on), so they match.
 */
const SYSCALL_NUMBERS: Readonly<Record<string, SyscallNumbers>> = {
  x86_64: {
    openat: 257,
    oDirectory: 0o200000,
    oNoFollow: 0o400000,
    prctl: 157,
    createRuleset: 444,
    addRule: 445,
    restrictSelf: 446,
  },
  aarch64: {
    openat: 56,
    oDirectory: 0o40000,
    oNoFollow: 0o100000,
    prctl: 167,
    createRuleset: 444,
    addRule: 445,
    restrictSelf: 446,
  },
};

const AT_FDCWD = -100;
// Same values on x86_64 and aarch64 (asm-generic/fcntl.h); O_DIRECTORY and
// O_NOFOLLOW are not.
const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;

let libcLayer: LandlockSyscalls | undefined;

/** The real layer: opens libc on first use and keeps it. */
function libcSyscalls(): LandlockSyscalls {
  if (libcLayer !== undefined) return libcLayer;
  const numbers = SYSCALL_NUMBERS[Deno.build.arch];
  if (numbers === undefined) {
    throw new Error(`no syscall numbers for ${Deno.build.arch}`);
  }
  const symbols = libc();
  // glibc's syscall() returns -1 and sets errno; turn that into -errno.
  const result = (value: number | bigint): number => {
    const n = Number(value);
    return n === -1 ? -errno() : n;
  };
  const n = BigInt;
  libcLayer = {
    createRuleset: (attr, flags) =>
      result(symbols.syscallBuffer(
        n(numbers.createRuleset),
        attr,
        n(attr?.length ?? 0),
        n(flags),
      )),
    addRule: (rulesetFd, ruleType, attr) =>
      result(symbols.syscallIntIntBuffer(
        n(numbers.addRule),
        n(rulesetFd),
        n(ruleType),
        attr,
        0n,
      )),
    restrictSelf: (rulesetFd, flags) =>
      result(symbols.syscallInts(
        n(numbers.restrictSelf),
        n(rulesetFd),
        n(flags),
        0n,
        0n,
        0n,
      )),
    setNoNewPrivs: () =>
      result(symbols.syscallInts(
        n(numbers.prctl),
        n(PR_SET_NO_NEW_PRIVS),
        1n,
        0n,
        0n,
        0n,
      )),
    openPath: (path, directory, noFollow = false) =>
      result(symbols.syscallIntBuffer(
        n(numbers.openat),
        n(AT_FDCWD),
        cString(path),
        n(
          O_PATH | O_CLOEXEC | (directory ? numbers.oDirectory : 0) |
            (noFollow ? numbers.oNoFollow : 0),
        ),
        0n,
      )),
    close: (fd) => {
      symbols.close(fd);
    },
  };
  return libcLayer;
}
