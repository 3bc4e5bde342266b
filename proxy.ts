/**
 * The proxy: the container's process while firmware runs on a remote
 * processor. See `core/proxy_protocol.ts` for the protocol. It is spawned by
 * `create`; never run it by hand.
 *
 * It keeps one descriptor on the processor's `state` and polls it with a
 * fixed buffer (sysfs does not notify state changes), so idle cost stays
 * small and the loop does not allocate. Between looks it sleeps in
 * `poll(2)` on a signalfd for its signals, which `create` starts it with
 * blocked: Deno's event loop stays idle (a Deno timer wakes the loop twice
 * per period and costs more; figures in core/libc.ts).
 *
 * @module
 */
import { join } from "./core/posix_path.ts";
import { setEntry } from "./core/lazy.ts";
import { describeError } from "./core/errors.ts";
import { PROXY_LOCK, sleepSync } from "./core/locks.ts";
import { closeDescriptor, openSignalQueue } from "./core/libc.ts";
import { createTraceForwarder } from "./core/trace.ts";
import { isPlaceholderArgs, runPlaceholder } from "./core/placeholder_proxy.ts";
import {
  EXIT,
  LOCK_ON_STDIN,
  POLL_MS,
  PROXY_SIGNALS,
  type ProxyOptions,
  READY_FILE,
  RECOVERY_GRACE_MS,
  START_RESULT_FILE,
  START_SIGNAL,
  type StartResult,
} from "./core/proxy_protocol.ts";
import {
  type ProcessorHooks,
  startProcessor,
  stopProcessor,
} from "./core/processor.ts";
import { stateMeaning } from "./core/state_meaning.ts";
import { createSysfs, label, type StateReader } from "./core/sysfs.ts";
import {
  DEFAULT_START_POLICY,
  DEFAULT_STOP_POLICY,
  type StartPolicy,
  type StopPolicy,
} from "./plugins/types.ts";

function parseProxyArgs(
  args: string[],
): ProxyOptions & { lockOnStdin: boolean } {
  // proxyArgs() writes only `--name=value`; a loop instead of node:util
  // keeps the Node compatibility layer (about 1 MiB) out of the proxy.
  const values: Record<string, string | undefined> = {};
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (!arg.startsWith("--") || eq < 0) {
      throw new Error(`proxy: unexpected argument ${JSON.stringify(arg)}`);
    }
    values[arg.slice(2, eq)] = arg.slice(eq + 1);
  }
  const need = (v: string | undefined, name: string): string => {
    if (v === undefined) throw new Error(`proxy: missing --${name}`);
    return v;
  };
  const policy = JSON.parse(values.policy ?? "{}") as {
    start?: Partial<StartPolicy>;
    stop?: Partial<StopPolicy>;
    stateAliases?: Record<string, string>;
  };
  return {
    lockOnStdin: values.lock === LOCK_ON_STDIN,
    dir: need(values.dir, "dir"),
    sysroot: values.sysroot ?? "/",
    device: {
      index: need(values["device-index"], "device-index"),
      dir: need(values["device-dir"], "device-dir"),
      name: values["device-name"] ?? "",
      driver: undefined,
      compatible: [],
    },
    pollMs: Number(values["poll-ms"] ?? POLL_MS),
    start: { ...DEFAULT_START_POLICY, ...policy.start },
    stop: { ...DEFAULT_STOP_POLICY, ...policy.stop },
    stateAliases: policy.stateAliases ?? {},
  };
}

const encoder = new TextEncoder();

function say(line: string): void {
  try {
    Deno.stdout.writeSync(encoder.encode(`remoteproc-runtime: ${line}\n`));
  } catch {
    // the engine closed our stdout; nothing to tell
  }
}

/**
 * How often the proxy looks at the firmware's trace buffers (and, while it
 * has found none, for new ones). A second is soon enough for a log, and
 * each look is a few syscalls on top of the `state` poll: at 200 ms it was
 * a quarter of an idle proxy's CPU. Crashes and stops flush at once.
 */
const TRACE_POLL_MS = 1_000;

const RESOLVED = Promise.resolve();

function forward(text: string): void {
  try {
    Deno.stdout.writeSync(encoder.encode(text));
  } catch {
    // the engine closed our stdout
  }
}

/**
 * Starts the proxy: takes its lock, installs its signal handlers and
 * writes its ready file. The process then lives on its timers until the
 * processor stops; it exits with one of the codes in `EXIT`.
 *
 * @param options What to watch and how.
 */
export function runProxy(
  options: ProxyOptions & { lockOnStdin?: boolean },
): void {
  const { dir, device } = options;
  const sysfs = createSysfs({ sysroot: options.sysroot });
  const name = label(device);
  // With --lock=stdin, create locked proxy.lock and made it our stdin: the
  // lock is ours from the spawn on, until exit() closes descriptor 0.
  const lock = options.lockOnStdin ? undefined : Deno.openSync(
    join(dir, PROXY_LOCK),
    { read: true, write: true, create: true, mode: 0o600 },
  );
  lock?.lockSync(true);

  let phase: "waiting" | "starting" | "running" | "stopping" = "waiting";
  let reader: StateReader | undefined;
  let watch: ReturnType<typeof setInterval> | undefined;
  // Firmware output (debugfs trace buffers) goes to stdout: the container log.
  const trace = createTraceForwarder({ sysfs, device, write: forward });
  const traceEvery = Math.max(1, Math.round(TRACE_POLL_MS / options.pollMs));
  let ticks = 0;
  const hooks: ProcessorHooks = { onRetry: say };

  function exit(code: number): never {
    if (watch !== undefined) clearInterval(watch);
    reader?.close();
    trace.close();
    // Release the lock first: it is what `state` and `delete` look at, and
    // tearing down the process takes a further 5-30 ms. (Deno cannot close
    // descriptor 0; libc can. Without FFI the lock goes with the process.)
    lock?.close();
    if (options.lockOnStdin) closeDescriptor(0);
    Deno.exit(code);
  }

  function report(result: StartResult): void {
    const tmp = join(dir, `.${START_RESULT_FILE}.tmp`);
    Deno.writeTextFileSync(tmp, JSON.stringify(result));
    Deno.renameSync(tmp, join(dir, START_RESULT_FILE));
  }

  async function start(): Promise<void> {
    if (phase !== "waiting") return;
    phase = "starting";
    const firmware = sysfs.readFirmware(device);
    trace.baseline();
    try {
      await startProcessor(sysfs, device, options.start, hooks);
      reader = sysfs.openStateReader(device);
    } catch (error) {
      const message = describeError(error);
      report({ ok: false, message });
      say(message);
      exit(EXIT.failed);
    }
    if (phase !== "starting") return; // a stop arrived meanwhile
    phase = "running";
    report({ ok: true });
    say(`${name}: firmware ${firmware} deployed and running`);
  }

  let crashedSince = 0;
  let offlineSince = 0;
  function check(): void {
    if (phase !== "running" || !reader) return;
    if (++ticks >= traceEvery) {
      ticks = 0;
      trace.poll();
    }
    if (reader.isRunning()) {
      if (crashedSince !== 0 || offlineSince !== 0) {
        crashedSince = 0;
        offlineSince = 0;
        say(`${name}: recovered by the kernel, running again`);
      }
      return;
    }
    const state = reader.read();
    const meaning = stateMeaning(state, options.stateAliases);
    if (meaning === "transient") return; // mid-rewrite
    if (meaning === "running") {
      // a plugin's alias (a TI vendor kernel's suspended core is rebooted
      // on resume)
      crashedSince = 0;
      return;
    }
    if (crashedSince === 0) trace.flush(); // the firmware's last words
    if (meaning === "crashed" || (crashedSince !== 0 && state === "offline")) {
      // With recovery enabled the kernel reboots the core: crashed ->
      // offline -> running. Wait for that before calling it a crash.
      if (crashedSince === 0) {
        crashedSince = Date.now();
        const recovery = sysfs.readRecovery(device);
        say(`${name}: crashed (recovery ${recovery ?? "unknown"})`);
        if (recovery !== "enabled") {
          say(`${name}: stopped: crashed`);
          exit(EXIT.crashed);
        }
      } else if (Date.now() - crashedSince > options.start.timeoutMs) {
        say(`${name}: stopped: crashed and not recovered`);
        exit(EXIT.crashed);
      }
      return;
    }
    if (state === "offline") {
      // A kernel recovering a crash goes crashed -> offline -> running in
      // one worker; a poll can miss `crashed` and see only `offline`. With
      // recovery enabled, give it a moment before calling it a stop.
      if (offlineSince === 0 && sysfs.readRecovery(device) === "enabled") {
        offlineSince = Date.now();
        return;
      }
      if (offlineSince !== 0 && Date.now() - offlineSince < RECOVERY_GRACE_MS) {
        return;
      }
      say(`${name}: stopped outside the runtime (offline)`);
      exit(EXIT.stoppedExternally);
    }
    say(`${name}: stopped: it reads "${state}"`);
    exit(EXIT.lost);
  }

  async function stop(code: number): Promise<void> {
    if (phase === "stopping") return;
    const was = phase;
    phase = "stopping";
    if (was === "waiting") exit(code);
    if (watch !== undefined) clearInterval(watch);
    trace.flush();
    try {
      await stopProcessor(sysfs, device, options.stop, hooks);
    } catch (error) {
      say(describeError(error));
      exit(code);
    }
    say(`${name}: stopped on request`);
    exit(code);
  }

  function watching(): boolean {
    return phase === "running";
  }

  function onSignal(signal: Deno.Signal): Promise<void> {
    if (signal === START_SIGNAL) return start();
    return stop(signal === "SIGINT" ? EXIT.int : EXIT.term);
  }

  // `create` starts us with these signals blocked (see spawnProxy): we take
  // them from a descriptor and sleep in poll(2) between looks at `state`,
  // outside Deno's event loop, which is idle.
  const queue = openSignalQueue(PROXY_SIGNALS);
  Deno.writeTextFileSync(join(dir, READY_FILE), String(Deno.pid));
  if (queue !== undefined) {
    // Waits for the simulator block too: nothing else is waiting to run.
    hooks.pause = (ms) => {
      sleepSync(ms);
      return RESOLVED;
    };
    void (async () => {
      for (;;) {
        const signal = queue.wait(watching() ? options.pollMs : -1);
        if (signal !== undefined) await onSignal(signal);
        else check();
      }
    })();
    return;
  }
  // Started some other way: Deno's signal listeners and timers.
  const listen = (signal: Deno.Signal) =>
    Deno.addSignalListener(signal, async () => {
      await onSignal(signal);
      if (phase === "running" && watch === undefined) {
        watch = setInterval(check, options.pollMs);
      }
    });
  PROXY_SIGNALS.forEach(listen);
  // Signal listeners do not keep Deno alive; this idle timer does. It comes
  // after the ready file: Deno's first timer costs about 11 ms (a lazy
  // start-up of its timer machinery) that `create` need not wait for.
  setInterval(() => {}, 1 << 30);
}

/**
 * Entry point: parses the proxy's arguments and runs it.
 *
 * @param args The arguments made by {@linkcode proxyArgs}.
 */
export function proxyMain(args: string[]): void {
  try {
    if (isPlaceholderArgs(args)) runPlaceholder(args);
    else runProxy(parseProxyArgs(args));
  } catch (error) {
    say(`proxy failed: ${describeError(error)}`);
    Deno.exit(EXIT.failed);
  }
}

if (import.meta.main) {
  setEntry(import.meta.url);
  proxyMain(Deno.args);
}
