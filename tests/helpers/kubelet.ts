/**
 * The kubelet's side of the Device Plugin API for the tests: serves
 * `Registration` on `<dir>/kubelet.sock`, records each request, and opens
 * clients on the plugin's endpoints.
 *
 * The gRPC side runs in a Node.js child (kubelet_peer.cjs), not in the test
 * process: Deno 2.9's node:http2 can abort the whole process when a
 * session receives a GOAWAY (denoland/deno#36788), and a test run must not
 * die of its own kubelet stand-in. This class speaks to the child in JSON
 * lines and keeps what it reports.
 *
 * @module
 */
import { fromFileUrl } from "./paths.ts";
import {
  DEVICE_PLUGIN_PROTO,
  type RegisterRequest,
} from "../../core/device_plugin/proto.ts";

const PEER = fromFileUrl(new URL("./kubelet_peer.cjs", import.meta.url));

/** A device list as streamed: ID -> health. */
export type DeviceList = Record<string, string>;

interface Reply {
  id?: number;
  value?: unknown;
  error?: string;
  event?: "register" | "list";
  request?: RegisterRequest;
  watch?: number;
  list?: DeviceList;
}

/** A fake kubelet. */
export class FakeKubelet {
  /** The registrations received, in order. */
  readonly registrations: RegisterRequest[] = [];
  #child: Deno.ChildProcess | undefined;
  #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #reading: Promise<void> | undefined;
  #next = 0;
  readonly #pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  readonly #watches = new Map<number, DeviceWatch>();

  /** @param dir The device-plugins directory. */
  constructor(readonly dir: string) {}

  /** Serves kubelet.sock (made anew). */
  async start(): Promise<void> {
    await this.#ask("start");
  }

  /** Stops serving and removes kubelet.sock. */
  async stop(): Promise<void> {
    if (this.#child !== undefined) await this.#ask("stop");
  }

  /**
   * Answers the next Register with INVALID_ARGUMENT and these details.
   *
   * @param details The error's text.
   */
  async refuseNext(details: string): Promise<void> {
    await this.#ask("failNext", { details });
  }

  /** Stops serving (kubelet.sock goes), closes every client, ends the child. */
  async close(): Promise<void> {
    if (this.#child === undefined) return;
    await this.stop();
    await this.#stdin!.close();
    await this.#child.status;
    await this.#reading;
    this.#child = undefined;
  }

  /**
   * A DevicePlugin client on an endpoint, with promise-returning unary calls.
   *
   * @param endpoint The socket's file name, as registered.
   * @returns The client.
   */
  plugin(endpoint: string): PluginClient {
    const unary = (method: string) => (request: unknown) =>
      this.#ask("call", { endpoint, method, request });
    return {
      options: unary("GetDevicePluginOptions"),
      allocate: unary("Allocate"),
      preferred: unary("GetPreferredAllocation"),
      preStart: unary("PreStartContainer"),
      watch: () => {
        const id = this.#next++;
        const watch = new DeviceWatch(() =>
          this.#tell("cancel", { watch: id })
        );
        this.#watches.set(id, watch);
        this.#tell("watch", { endpoint, watch: id });
        return watch;
      },
      close: () => this.#tell("close", { endpoint }),
    };
  }

  #spawn(): void {
    const child = new Deno.Command("node", {
      args: [PEER, this.dir, DEVICE_PLUGIN_PROTO],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#child = child;
    this.#stdin = child.stdin.getWriter();
    this.#reading = (async () => {
      let rest = "";
      for await (
        const chunk of child.stdout.pipeThrough(new TextDecoderStream())
      ) {
        rest += chunk;
        const lines = rest.split("\n");
        rest = lines.pop()!;
        for (const line of lines) this.#receive(JSON.parse(line));
      }
      for (const { reject } of this.#pending.values()) {
        reject(new Error("the kubelet stand-in (node) exited"));
      }
      this.#pending.clear();
    })();
  }

  #receive(reply: Reply): void {
    if (reply.event === "register") this.registrations.push(reply.request!);
    else if (reply.event === "list") {
      this.#watches.get(reply.watch!)?.lists.push(reply.list!);
    } else {
      const pending = this.#pending.get(reply.id!);
      this.#pending.delete(reply.id!);
      if (reply.error !== undefined) pending?.reject(new Error(reply.error));
      else pending?.resolve(reply.value);
    }
  }

  #tell(op: string, args: Record<string, unknown> = {}): number {
    if (this.#child === undefined) this.#spawn();
    const id = this.#next++;
    void this.#stdin!.write(
      new TextEncoder().encode(JSON.stringify({ id, op, ...args }) + "\n"),
    );
    return id;
  }

  #ask(op: string, args: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#tell(op, args);
    return new Promise((resolve, reject) =>
      this.#pending.set(id, { resolve, reject })
    );
  }
}

/** Unary calls on one endpoint, and ListAndWatch. */
export interface PluginClient {
  options(request: unknown): Promise<unknown>;
  allocate(request: unknown): Promise<unknown>;
  preferred(request: unknown): Promise<unknown>;
  preStart(request: unknown): Promise<unknown>;
  watch(): DeviceWatch;
  close(): void;
}

/** One ListAndWatch stream, its messages kept in order. */
export class DeviceWatch {
  /** Every list received. */
  readonly lists: DeviceList[] = [];
  #seen = 0;

  /** @param onCancel Ends the stream. */
  constructor(readonly onCancel: () => void) {}

  /**
   * Waits for a list that satisfies `fn`, among those received after the
   * one the previous call returned.
   *
   * @param fn The condition.
   * @param ms How long to wait.
   * @returns The list.
   */
  async until(
    fn: (list: DeviceList) => boolean,
    ms = 10_000,
  ): Promise<DeviceList> {
    const deadline = Date.now() + ms;
    for (;;) {
      const at = this.lists.findIndex((l, i) => i >= this.#seen && fn(l));
      if (at >= 0) {
        this.#seen = at + 1;
        return this.lists[at]!;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `no such device list; got ${JSON.stringify(this.lists)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Ends the stream. */
  cancel(): void {
    this.onCancel();
  }
}
