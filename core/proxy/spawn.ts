/**
 * Spawning the proxy as a direct child of the runtime, detached into its own
 * session, with the runtime's stdout and stderr (so its lines reach the
 * engine's container log) and, where FFI allows, its `proxy.lock` already
 * held as its stdin and its signals blocked (see core/proxy/protocol.ts).
 * conmon and containerd's runc shim are child subreapers: the proxy is
 * re-parented to them when `create` exits, and they reap it and report its
 * exit status. No shim of our own is needed.
 *
 * @module
 */
import { fileURLToPath } from "../util/posix_path.ts";
import { describeError, RuntimeError, UsageError } from "../util/errors.ts";
import { isProxyAlive } from "../container/locks.ts";
import { pollUntil, pollUntilSync } from "../util/poll.ts";
import { CLOSE_FDS_FLAG, LOCK_ON_STDIN, PROXY_SIGNALS } from "./protocol.ts";
import { isReady } from "./files.ts";
import { moduleUrl, projectUrl } from "../util/lazy.ts";
import { standaloneExecutable } from "./self.ts";
import {
  isInheritedDescriptor,
  lockFile,
  sendSignal,
  SpawnError,
  spawnSession,
} from "../os/libc.ts";

/** The hidden subcommand a compiled binary runs its proxy as. */
export const PROXY_SUBCOMMAND = "__proxy";

/** A spawned proxy. */
export interface SpawnedProxy {
  /** Its pid. */
  pid: number;
  /**
   * Whether it was handed `proxy.lock` already held (`--lock=stdin`): it
   * counts as alive from the spawn on and nobody need wait for it.
   */
  holdsLock: boolean;
  /**
   * Its exit code if it has exited, without waiting.
   *
   * @returns The code, or undefined while it runs.
   */
  exitCode(): number | undefined;
  /**
   * Whether {@linkcode SpawnedProxy.exitCode} is known without running the
   * event loop (spawned through libc), so waiting may block.
   */
  synchronous: boolean;
  /** Kills it (SIGKILL). */
  kill(): void;
}

/** Options of {@linkcode spawnProxy}. */
export interface SpawnOptions {
  /** Arguments for the proxy (see `proxyArgs()` in protocol.ts). */
  args: string[];
  /** Directories the proxy must be able to write (narrow permission mode). */
  writable: string[];
  /**
   * Its `proxy.lock`, to lock here and hand over where FFI allows; without
   * it the proxy takes the lock itself.
   */
  lockPath?: string;
  /**
   * How many descriptors after stdio it gets (runc's `--preserve-fds`:
   * 3, 4, ...). It gets nothing else this process holds.
   */
  passFds?: number;
}

/**
 * The command line that runs the proxy: the compiled binary (or its
 * stand-in, see core/proxy/self.ts) re-executes itself with a hidden subcommand;
 * a `deno run` development run starts
 * `proxy.ts` with the same permissions the runtime has (`-A`, or the
 * narrow `sysroot` set of deno.json plus the directories it writes).
 *
 * @param options What the proxy gets.
 * @returns Executable and arguments.
 */
export function proxyCommand(options: SpawnOptions): [string, string[]] {
  const self = standaloneExecutable();
  if (self !== undefined) return [self, [PROXY_SUBCOMMAND, ...options.args]];
  const exe = Deno.execPath();
  const config = fileURLToPath(projectUrl("deno.json"));
  const script = fileURLToPath(moduleUrl("proxy.ts"));
  const all = Deno.permissions.querySync({ name: "write" }).state === "granted";
  const perms = all
    ? ["-A"]
    : ["-P=sysroot", `--allow-write=${options.writable.join(",")}`];
  return [exe, [
    "run",
    "-q",
    "--no-prompt",
    `--config=${config}`,
    ...perms,
    script,
    ...options.args,
  ]];
}

/**
 * Checks that the descriptors `--preserve-fds` names were passed to this
 * process: open and not close-on-exec (one that is was opened by this
 * process, by Deno, and is no engine's). Where FFI is unavailable it cannot
 * tell and checks nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPassedFds } from "./spawn.ts";
 * checkPassedFds(0); // nothing to pass: always fine
 * assert.throws(() => checkPassedFds(1000), /descriptor \d+ was not passed/);
 * ```
 *
 * @param count How many descriptors after stdio.
 * @throws {UsageError} Naming the first one that was not passed.
 */
export function checkPassedFds(count: number): void {
  for (let fd = 3; fd < 3 + count; fd++) {
    if (isInheritedDescriptor(fd) === false) {
      throw new UsageError(
        `--preserve-fds ${count}: descriptor ${fd} was not passed to the runtime`,
      );
    }
  }
}

/**
 * Spawns the proxy and returns at once; use {@linkcode waitProxyReady}.
 *
 * @param options What the proxy gets.
 * @returns The spawned proxy.
 */
export function spawnProxy(options: SpawnOptions): SpawnedProxy {
  const [exe, args] = proxyCommand(options);
  let held;
  try {
    held = options.lockPath === undefined
      ? undefined
      : lockFile(options.lockPath);
  } catch (error) {
    throw new RuntimeError(
      `cannot lock for the proxy: ${describeError(error)}`,
    );
  }
  // Blocked from the proxy's first instruction, so in every thread it has.
  const blockSignals = PROXY_SIGNALS;
  const passFds = options.passFds ?? 0;
  let session;
  try {
    session = held === undefined
      ? spawnSession(exe, args, { blockSignals, passFds })
      : spawnSession(exe, [...args, `--lock=${LOCK_ON_STDIN}`], {
        stdinFd: held.fd,
        blockSignals,
        passFds,
      });
  } catch (error) {
    held?.close();
    throw spawnFailure(error);
  }
  // The child has its own descriptor now; ours must not outlive this call.
  held?.close();
  if (session !== undefined) {
    return {
      pid: session.pid,
      holdsLock: held !== undefined,
      exitCode: () => session.exited()?.code,
      synchronous: true,
      kill() {
        try {
          sendSignal(session.pid, "SIGKILL");
        } catch {
          // already gone
        }
        // Reap it: the pid must not name a zombie while we live.
        pollUntilSync(() => session.exited(), { timeoutMs: 1_000 });
      },
    };
  }
  // Deno.Command cannot close what this process inherited: the proxy
  // closes it itself before it is ready (which create waits for here).
  const child = new Deno.Command(exe, {
    args: [...args, `${CLOSE_FDS_FLAG}=${3 + passFds}`],
    detached: true,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  child.unref();
  let code: number | undefined;
  child.status.then((s) => code = s.code, () => {});
  return {
    pid: child.pid,
    holdsLock: false,
    exitCode: () => code,
    synchronous: false,
    kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    },
  };
}

const ENOENT = 2;
const ENOEXEC = 8;
const EACCES = 13;
const ETXTBSY = 26;

/**
 * Why the proxy could not be started, in one line that names the file the
 * kernel would not execute and, where this process can tell, why.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SpawnError } from "../os/libc.ts";
 * import { spawnFailure } from "./spawn.ts";
 * assert.equal(
 *   spawnFailure(new SpawnError("/gone/deno (deleted)", 2)).message,
 *   "cannot start the proxy: /gone/deno (deleted) does not exist: the runtime's own executable was removed or replaced while it ran",
 * );
 * ```
 *
 * @param error What spawning threw.
 * @returns The error to report.
 */
export function spawnFailure(error: unknown): RuntimeError {
  if (!(error instanceof SpawnError)) {
    return new RuntimeError(`cannot start the proxy: ${describeError(error)}`);
  }
  const { exe, errno } = error;
  const prefix = "cannot start the proxy:";
  switch (errno) {
    case ENOENT:
      return new RuntimeError(
        `${prefix} ${exe} does not exist${
          exe.endsWith(" (deleted)")
            ? ": the runtime's own executable was removed or replaced while it ran"
            : ""
        }`,
      );
    case EACCES:
      return new RuntimeError(
        `${prefix} permission denied executing ${exe}: ${accessProblem(exe)}`,
      );
    case ETXTBSY:
      return new RuntimeError(
        `${prefix} ${exe} is open for writing (being replaced?)`,
      );
    case ENOEXEC:
      return new RuntimeError(
        `${prefix} ${exe} is not a program this machine can run`,
      );
    default:
      return new RuntimeError(`${prefix} ${error.message}`);
  }
}

/** Why `execve` said EACCES for a file, as far as `stat` can tell. */
function accessProblem(exe: string): string {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(exe);
  } catch (error) {
    return `it cannot be looked at (${describeError(error)})`;
  }
  if (!info.isFile) return "it is not a regular file";
  const mode = (info.mode ?? 0) & 0o7777;
  if ((mode & 0o111) === 0) {
    return `it is not executable (mode ${mode.toString(8).padStart(4, "0")})`;
  }
  return "the kernel refused it: a noexec mount, or outside what Landlock lets create execute (core/proxy/self.ts lists it)";
}

/**
 * Waits until the proxy has written its ready file.
 *
 * @param dir The container's state directory.
 * @param proxy The spawned proxy.
 * @param timeoutMs How long to wait.
 * @throws {RuntimeError} When it exits or does not get ready in time.
 */
export async function waitProxyReady(
  dir: string,
  proxy: SpawnedProxy,
  timeoutMs = 30_000,
): Promise<void> {
  const ready = () => {
    if (isReady(dir)) return true;
    const code = proxy.exitCode();
    if (code !== undefined) {
      throw new RuntimeError(
        `proxy exited before it was ready (exit code ${code})`,
      );
    }
    return undefined;
  };
  const poll = { timeoutMs, delayMs: 1, maxDelayMs: 2 };
  // A libc child needs no event loop to be watched: block, which spares
  // `create` Deno's first timer (about 11 ms of start-up).
  const done = proxy.synchronous
    ? pollUntilSync(ready, poll)
    : await pollUntil(ready, poll);
  if (!done) throw new RuntimeError(`proxy not ready within ${timeoutMs} ms`);
}

/**
 * Waits until a proxy that may still be starting can take signals (its
 * ready file exists): `create` does not wait for Deno to start in it, so
 * `start` does, before it sends SIGUSR1 (whose default action would kill a
 * proxy started without its signals blocked, where FFI is unavailable).
 *
 * @param dir The container's state directory.
 * @param timeoutMs How long to wait.
 * @returns True once it is ready; false when it is gone.
 * @throws {RuntimeError} When it lives but is not ready in time.
 */
export function proxyReadyOrGone(dir: string, timeoutMs = 30_000): boolean {
  const ready = pollUntilSync(
    () => isReady(dir) ? true : isProxyAlive(dir) ? undefined : false,
    { timeoutMs },
  );
  if (ready === undefined) {
    throw new RuntimeError(`proxy not ready within ${timeoutMs} ms`);
  }
  return ready;
}
