/**
 * Forwarding firmware output: the remote processor's debugfs trace buffers
 * (`/sys/kernel/debug/remoteproc/remoteprocN/traceN`, present when the
 * firmware's resource table declares one) are polled by the proxy and new
 * text is written to its stdout, which the engine keeps as the container's
 * log (`podman logs`, `ctr`, `kubectl logs`).
 *
 * The kernel's trace file is a window on a ring buffer the firmware writes:
 * every read returns the whole buffer (up to its first NUL), and when the
 * firmware wraps, it overwrites the oldest text from the start. So the
 * forwarder keeps the last content and forwards only what differs from it:
 * the appended tail, or, after a wrap, the part in front of the unchanged
 * old remainder.
 *
 * @module
 */
import type { Sysfs, TraceReader } from "../device/sysfs.ts";

const NEWLINE = 0x0a;

/**
 * The bytes of `next` that are new compared with `previous`.
 *
 * - `next` extends `previous`: the tail.
 * - the firmware wrapped and overwrote the front (`next` ends with what is
 *   left of `previous` at the same offsets): the overwritten front.
 * - anything else (a new boot, a cleared buffer): all of `next`.
 *
 * @param previous What was read last time.
 * @param next What was read now.
 * @returns The new bytes (a view into `next`), empty when nothing changed.
 */
export function newTraceBytes(
  previous: Uint8Array,
  next: Uint8Array,
): Uint8Array {
  const common = Math.min(previous.length, next.length);
  let same = 0;
  while (same < common && previous[same] === next[same]) same++;
  if (same === previous.length) return next.subarray(same);
  if (next.length === previous.length) {
    // A wrap in place: the front was overwritten, the rest is unchanged.
    let end = next.length;
    while (end > same && previous[end - 1] === next[end - 1]) end--;
    // Text matching the old bytes by chance (a newline at the same offset)
    // belongs to the overwritten part up to the end of its line.
    if (end > 0 && next[end - 1] !== NEWLINE) {
      const nl = next.indexOf(NEWLINE, end);
      if (nl >= 0) end = nl + 1;
    }
    if (end < next.length) return next.subarray(0, end);
  }
  return next;
}

/** Options of {@linkcode createTraceForwarder}. */
export interface TraceForwarderOptions {
  /** Sysfs access (debugfs lives beside it). */
  sysfs: Sysfs;
  /** The processor. */
  device: { index: string; dir: string; name: string };
  /** Where new text goes (the proxy's stdout). */
  write(text: string): void;
}

/** Polls a processor's trace buffers and forwards new text. */
export interface TraceForwarder {
  /**
   * Takes the current content as already seen (call before starting the
   * processor, so text left from an earlier run is not repeated).
   */
  baseline(): void;
  /** Reads the buffers and forwards complete new lines. */
  poll(): void;
  /** Polls, then forwards any unfinished last line too. */
  flush(): void;
  /** Closes the descriptors. */
  close(): void;
}

interface Buffer {
  path: string;
  reader: TraceReader;
  last: Uint8Array;
  partial: string;
  decoder: TextDecoder;
}

/**
 * Creates a forwarder. Buffers that appear later (the kernel creates them
 * when the processor boots) are picked up on a later poll; one that goes
 * away is dropped.
 *
 * @param options Where to read and where to write.
 * @returns The forwarder.
 */
export function createTraceForwarder(
  options: TraceForwarderOptions,
): TraceForwarder {
  return new Forwarder(options);
}

class Forwarder implements TraceForwarder {
  readonly #sysfs: Sysfs;
  readonly #device: TraceForwarderOptions["device"];
  readonly #write: (text: string) => void;
  readonly #buffers = new Map<string, Buffer>();
  readonly #baselines = new Map<string, Uint8Array>();

  constructor({ sysfs, device, write }: TraceForwarderOptions) {
    this.#sysfs = sysfs;
    this.#device = device;
    this.#write = write;
  }

  baseline(): void {
    for (const path of this.#sysfs.tracePaths(this.#device)) {
      try {
        const reader = this.#sysfs.openTraceReader(path);
        try {
          this.#baselines.set(path, reader.read().slice());
        } finally {
          reader.close();
        }
      } catch {
        // absent or unreadable: nothing seen
      }
    }
  }

  poll(): void {
    if (this.#buffers.size === 0) this.#open();
    for (const buffer of this.#buffers.values()) this.#read(buffer, false);
  }

  flush(): void {
    this.#open();
    for (const buffer of this.#buffers.values()) this.#read(buffer, true);
  }

  close(): void {
    for (const buffer of this.#buffers.values()) this.#drop(buffer);
  }

  #open(): void {
    for (const path of this.#sysfs.tracePaths(this.#device)) {
      if (this.#buffers.has(path)) continue;
      try {
        this.#buffers.set(path, {
          path,
          reader: this.#sysfs.openTraceReader(path),
          last: this.#baselines.get(path) ?? new Uint8Array(0),
          partial: "",
          decoder: new TextDecoder(),
        });
      } catch {
        // not readable (yet): try again on the next poll
      }
    }
  }

  #drop(buffer: Buffer): void {
    this.#buffers.delete(buffer.path);
    try {
      buffer.reader.close();
    } catch {
      // already closed
    }
  }

  #read(buffer: Buffer, final: boolean): void {
    let content: Uint8Array;
    try {
      content = buffer.reader.read();
    } catch {
      return this.#drop(buffer);
    }
    const fresh = newTraceBytes(buffer.last, content);
    if (fresh.length > 0 || content.length !== buffer.last.length) {
      buffer.last = content.slice();
    }
    let text = buffer.partial;
    if (fresh.length > 0) {
      text += buffer.decoder.decode(fresh, { stream: true });
    }
    const cut = final ? text.length : text.lastIndexOf("\n") + 1;
    buffer.partial = text.slice(cut);
    let out = text.slice(0, cut);
    if (out === "") return;
    if (!out.endsWith("\n")) out += "\n";
    this.#write(out);
  }
}
