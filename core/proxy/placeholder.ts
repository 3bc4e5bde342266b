/**
 * The proxy of a pod sandbox's placeholder (core/ops/sandbox.ts): `proxy.ts`
 * runs it when given {@linkcode PLACEHOLDER_ARG}. It holds `proxy.lock`
 * like any proxy (so `state` sees it alive), writes its ready file, and then
 * only waits for a signal: TERM and INT end it with 143 and 130, KILL kills
 * it (137); SIGUSR1 is ignored. It touches no processor and never wakes
 * otherwise.
 *
 * @module
 */
import { join } from "../util/posix_path.ts";
import {
  closeDescriptor,
  inheritableDescriptors,
  openSignalQueue,
} from "../os/libc.ts";
import { PROXY_LOCK } from "../container/locks.ts";
import {
  CLOSE_FDS_FLAG,
  EXIT,
  LOCK_ON_STDIN,
  PROXY_SIGNALS,
} from "./protocol.ts";
import { writeReady } from "./files.ts";

/** The argument that makes `proxy.ts` a placeholder. */
export const PLACEHOLDER_ARG = "--placeholder=pod-sandbox";

/**
 * The placeholder proxy's arguments (`spawnProxy` adds `--lock=stdin`).
 *
 * @param dir The container's state directory.
 * @returns Arguments for `proxy.ts`.
 */
export function placeholderArgs(dir: string): string[] {
  return [`--dir=${dir}`, PLACEHOLDER_ARG];
}

/**
 * Whether proxy arguments ask for a placeholder.
 *
 * @param args The proxy's arguments.
 * @returns True with {@linkcode PLACEHOLDER_ARG}.
 */
export function isPlaceholderArgs(args: readonly string[]): boolean {
  return args.includes(PLACEHOLDER_ARG);
}

function exitCodeOf(signal: Deno.Signal): number | undefined {
  if (signal === "SIGTERM") return EXIT.term;
  if (signal === "SIGINT") return EXIT.int;
  return undefined;
}

/**
 * Runs the placeholder until a signal ends it.
 *
 * @param args Its arguments ({@linkcode placeholderArgs} plus `--lock`).
 */
export function runPlaceholder(args: readonly string[]): void {
  const dir = args.find((a) => a.startsWith("--dir="))?.slice(6);
  if (!dir) throw new Error("proxy: missing --dir");
  const lockOnStdin = args.includes(`--lock=${LOCK_ON_STDIN}`);
  const closeFrom = args.find((a) => a.startsWith(`${CLOSE_FDS_FLAG}=`))
    ?.slice(CLOSE_FDS_FLAG.length + 1);
  if (closeFrom !== undefined) {
    if (!/^\d{1,4}$/.test(closeFrom)) {
      throw new Error(`proxy: bad ${CLOSE_FDS_FLAG}`);
    }
    // As in proxy.ts: drop what create inherited (an engine's pipes).
    for (const fd of inheritableDescriptors(Number(closeFrom)) ?? []) {
      closeDescriptor(fd);
    }
  }
  // As in proxy.ts: create may hand the held lock over as stdin.
  const lock = lockOnStdin ? undefined : Deno.openSync(
    join(dir, PROXY_LOCK),
    { read: true, write: true, create: true, mode: 0o600 },
  );
  lock?.lockSync(true);
  const exit = (code: number): never => {
    lock?.close();
    if (lockOnStdin) closeDescriptor(0);
    Deno.exit(code);
  };
  // create starts proxies with these signals blocked: take them from a
  // signalfd and sleep in poll(2) with no timeout.
  const queue = openSignalQueue(PROXY_SIGNALS);
  writeReady(dir);
  if (queue !== undefined) {
    for (;;) {
      const signal = queue.wait(-1);
      const code = signal === undefined ? undefined : exitCodeOf(signal);
      if (code !== undefined) exit(code);
    }
  }
  // Started some other way: Deno's listeners, and a timer to stay alive.
  for (const signal of PROXY_SIGNALS) {
    Deno.addSignalListener(signal, () => {
      const code = exitCodeOf(signal);
      if (code !== undefined) exit(code);
    });
  }
  setInterval(() => {}, 1 << 30);
}
