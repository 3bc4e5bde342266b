/**
 * The proxy: the container's process while firmware runs on a remote
 * processor. See `core/proxy/protocol.ts` for the protocol. It is spawned by
 * `create`; never run it by hand.
 *
 * It keeps one descriptor on the processor's `state` and polls it with a
 * fixed buffer (sysfs does not notify state changes), so idle cost stays
 * small and the loop does not allocate. Between looks it sleeps in
 * `poll(2)` on a signalfd for its signals, which `create` starts it with
 * blocked: Deno's event loop stays idle (a Deno timer wakes the loop twice
 * per period and costs more; figures in core/os/libc.ts).
 *
 * Its life has three phases, each a method of {@linkcode Proxy}: waiting
 * for the start signal ({@linkcode Proxy.start}), watching the processor
 * ({@linkcode Proxy.check}, once per poll period) and stopping it on
 * request ({@linkcode Proxy.stop}). One of two drivers feeds it signals
 * and poll ticks: the signal queue ({@linkcode driveBySignalQueue}) or,
 * started without FFI, Deno's signal listeners and timers
 * ({@linkcode driveByListeners}).
 *
 * @module
 */
import { join } from "./core/util/posix_path.ts";
import { setEntry } from "./core/util/lazy.ts";
import { describeError } from "./core/util/errors.ts";
import { sleepSync } from "./core/util/poll.ts";
import { PROXY_LOCK } from "./core/container/locks.ts";
import {
  closeDescriptor,
  inheritableDescriptors,
  openSignalQueue,
  type SignalQueue,
} from "./core/os/libc.ts";
import {
  createTraceForwarder,
  type TraceForwarder,
} from "./core/proxy/trace.ts";
import { isPlaceholderArgs, runPlaceholder } from "./core/proxy/placeholder.ts";
import {
  EXIT,
  parseProxyArgs,
  PROXY_SIGNALS,
  type ProxyOptions,
  RECOVERY_GRACE_MS,
  START_SIGNAL,
} from "./core/proxy/protocol.ts";
import { writeReady, writeStartResult } from "./core/proxy/files.ts";
import {
  type ProcessorHooks,
  startProcessor,
  stopProcessor,
} from "./core/device/processor.ts";
import { stateMeaning } from "./core/device/processor_state.ts";
import {
  createSysfs,
  label,
  type StateReader,
  type Sysfs,
} from "./core/device/sysfs.ts";

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

/** Where the proxy is in its life. */
type Phase = "waiting" | "starting" | "running" | "stopping";

/** One proxy's processor, from the start signal to its exit. */
class Proxy {
  phase: Phase = "waiting";
  /** Deno's timer for {@linkcode Proxy.check} (the listener driver only). */
  watch: ReturnType<typeof setInterval> | undefined;
  readonly hooks: ProcessorHooks = { onRetry: say };
  readonly #options: ProxyOptions & { lockOnStdin?: boolean };
  readonly #sysfs: Sysfs;
  readonly #name: string;
  readonly #lock: Deno.FsFile | undefined;
  /** Firmware output (debugfs trace buffers) to stdout: the container log. */
  readonly #trace: TraceForwarder;
  readonly #traceEvery: number;
  #reader: StateReader | undefined;
  #ticks = 0;
  #crashedSince = 0;
  #offlineSince = 0;

  constructor(
    options: ProxyOptions & { lockOnStdin?: boolean },
    lock: Deno.FsFile | undefined,
  ) {
    this.#options = options;
    this.#lock = lock;
    this.#sysfs = createSysfs({ sysroot: options.sysroot });
    this.#name = label(options.device);
    this.#trace = createTraceForwarder({
      sysfs: this.#sysfs,
      device: options.device,
      write: forward,
    });
    this.#traceEvery = Math.max(1, Math.round(TRACE_POLL_MS / options.pollMs));
  }

  /** Whether a poll tick is due to look at the processor. */
  get watching(): boolean {
    return this.phase === "running";
  }

  /** Exits, releasing the lock first. */
  exit(code: number): never {
    if (this.watch !== undefined) clearInterval(this.watch);
    this.#reader?.close();
    this.#trace.close();
    // Release the lock first: it is what `state` and `delete` look at, and
    // tearing down the process takes a further 5-30 ms. (Deno cannot close
    // descriptor 0; libc can. Without FFI the lock goes with the process.)
    this.#lock?.close();
    if (this.#options.lockOnStdin) closeDescriptor(0);
    Deno.exit(code);
  }

  /** A signal arrived: start, or stop with the code it asks for. */
  onSignal(signal: Deno.Signal): Promise<void> {
    if (signal === START_SIGNAL) return this.start();
    return this.stop(signal === "SIGINT" ? EXIT.int : EXIT.term);
  }

  /** Waiting -> running: starts the processor and reports how it went. */
  async start(): Promise<void> {
    if (this.phase !== "waiting") return;
    this.phase = "starting";
    const { device, dir } = this.#options;
    const firmware = this.#sysfs.readFirmware(device);
    this.#trace.baseline();
    try {
      await startProcessor(
        this.#sysfs,
        device,
        this.#options.start,
        this.hooks,
      );
      this.#reader = this.#sysfs.openStateReader(device);
    } catch (error) {
      const message = describeError(error);
      writeStartResult(dir, { ok: false, message });
      say(message);
      this.exit(EXIT.failed);
    }
    if (this.phase !== "starting") return; // a stop arrived meanwhile
    this.phase = "running";
    writeStartResult(dir, { ok: true });
    say(`${this.#name}: firmware ${firmware} deployed and running`);
  }

  /**
   * Running: one look at the processor; exits once it left `running`. A
   * look that fails (its files went away) ends the proxy with one line,
   * never an uncaught error.
   */
  check(): void {
    try {
      this.#look();
    } catch (error) {
      say(`${this.#name}: stopped: ${describeError(error)}`);
      this.exit(EXIT.lost);
    }
  }

  #look(): void {
    if (this.phase !== "running" || !this.#reader) return;
    if (++this.#ticks >= this.#traceEvery) {
      this.#ticks = 0;
      this.#trace.poll();
    }
    if (this.#reader.isRunning()) {
      if (this.#crashedSince !== 0 || this.#offlineSince !== 0) {
        this.#crashedSince = 0;
        this.#offlineSince = 0;
        say(`${this.#name}: recovered by the kernel, running again`);
      }
      return;
    }
    const state = this.#reader.read();
    const meaning = stateMeaning(state, this.#options.stateAliases);
    if (meaning === "transient") return; // mid-rewrite
    if (meaning === "running") {
      // a plugin's alias (a TI vendor kernel's suspended core is rebooted
      // on resume)
      this.#crashedSince = 0;
      return;
    }
    if (this.#crashedSince === 0) this.#trace.flush(); // its last words
    if (
      meaning === "crashed" || (this.#crashedSince !== 0 && state === "offline")
    ) {
      this.#crashed();
    } else if (state === "offline") {
      this.#offline();
    } else {
      say(`${this.#name}: stopped: it reads "${state}"`);
      this.exit(EXIT.lost);
    }
  }

  /**
   * It crashed. With recovery enabled the kernel reboots the core:
   * crashed -> offline -> running. Wait for that before calling it a crash.
   */
  #crashed(): void {
    const { start } = this.#options;
    if (this.#crashedSince === 0) {
      this.#crashedSince = Date.now();
      const recovery = this.#recovery();
      say(`${this.#name}: crashed (recovery ${recovery ?? "unknown"})`);
      if (recovery !== "enabled") {
        say(`${this.#name}: stopped: crashed`);
        this.exit(EXIT.crashed);
      }
    } else if (Date.now() - this.#crashedSince > start.timeoutMs) {
      say(`${this.#name}: stopped: crashed and not recovered`);
      this.exit(EXIT.crashed);
    }
  }

  /**
   * It reads `offline`. A kernel recovering a crash goes crashed -> offline
   * -> running in one worker; a poll can miss `crashed` and see only
   * `offline`. With recovery enabled, give it a moment before calling it a
   * stop.
   */
  #offline(): void {
    if (
      this.#offlineSince === 0 &&
      this.#recovery() === "enabled"
    ) {
      this.#offlineSince = Date.now();
      return;
    }
    if (
      this.#offlineSince !== 0 &&
      Date.now() - this.#offlineSince < RECOVERY_GRACE_MS
    ) return;
    say(`${this.#name}: stopped outside the runtime (offline)`);
    this.exit(EXIT.stoppedExternally);
  }

  /**
   * The processor's `recovery` setting, or undefined when it cannot be
   * read: its device went away (a driver unbound, a simulator reset) or
   * the confinement inherited from `create` no longer reaches the file.
   * Unknown is not enabled: the proxy then reports what it saw.
   */
  #recovery(): string | undefined {
    try {
      return this.#sysfs.readRecovery(this.#options.device);
    } catch {
      return undefined;
    }
  }

  /** A requested stop: stops the processor (once it runs) and exits. */
  async stop(code: number): Promise<void> {
    if (this.phase === "stopping") return;
    const was = this.phase;
    this.phase = "stopping";
    if (was === "waiting") this.exit(code);
    if (this.watch !== undefined) clearInterval(this.watch);
    this.#trace.flush();
    try {
      await stopProcessor(
        this.#sysfs,
        this.#options.device,
        this.#options.stop,
        this.hooks,
      );
    } catch (error) {
      say(describeError(error));
      this.exit(code);
    }
    say(`${this.#name}: stopped on request`);
    this.exit(code);
  }
}

/**
 * The driver for a proxy started with its signals blocked (see
 * spawnProxy): signals come from a descriptor, and between looks at
 * `state` it sleeps in poll(2), outside Deno's event loop, which is idle.
 */
function driveBySignalQueue(
  proxy: Proxy,
  queue: SignalQueue,
  pollMs: number,
): void {
  // Waits for the simulator block too: nothing else is waiting to run.
  proxy.hooks.pause = (ms) => {
    sleepSync(ms);
    return RESOLVED;
  };
  void (async () => {
    for (;;) {
      const signal = queue.wait(proxy.watching ? pollMs : -1);
      if (signal !== undefined) await proxy.onSignal(signal);
      else proxy.check();
    }
  })();
}

/** The driver for a proxy started some other way: Deno's listeners and timers. */
function driveByListeners(proxy: Proxy, pollMs: number): void {
  const listen = (signal: Deno.Signal) =>
    Deno.addSignalListener(signal, async () => {
      await proxy.onSignal(signal);
      if (proxy.phase === "running" && proxy.watch === undefined) {
        proxy.watch = setInterval(() => proxy.check(), pollMs);
      }
    });
  PROXY_SIGNALS.forEach(listen);
  // Signal listeners do not keep Deno alive; this idle timer does. It comes
  // after the ready file: Deno's first timer costs about 11 ms (a lazy
  // start-up of its timer machinery) that `create` need not wait for.
  setInterval(() => {}, 1 << 30);
}

/**
 * Starts the proxy: takes its lock, takes its signals and writes its ready
 * file. The process then lives on its driver until the processor stops; it
 * exits with one of the codes in `EXIT`.
 *
 * @param options What to watch and how.
 */
export function runProxy(
  options: ProxyOptions & { lockOnStdin?: boolean; closeFdsFrom?: number },
): void {
  if (options.closeFdsFrom !== undefined) {
    // Spawned by Deno.Command: drop what create inherited (an engine's
    // pipes), or they stay open for as long as we live.
    for (const fd of inheritableDescriptors(options.closeFdsFrom) ?? []) {
      closeDescriptor(fd);
    }
  }
  // With --lock=stdin, create locked proxy.lock and made it our stdin: the
  // lock is ours from the spawn on, until exit() closes descriptor 0.
  const lock = options.lockOnStdin ? undefined : Deno.openSync(
    join(options.dir, PROXY_LOCK),
    { read: true, write: true, create: true, mode: 0o600 },
  );
  lock?.lockSync(true);
  const proxy = new Proxy(options, lock);
  const queue = openSignalQueue(PROXY_SIGNALS);
  writeReady(options.dir);
  if (queue !== undefined) driveBySignalQueue(proxy, queue, options.pollMs);
  else driveByListeners(proxy, options.pollMs);
}

/**
 * Entry point: parses the proxy's arguments and runs it.
 *
 * @param args The arguments made by `proxyArgs()`.
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
