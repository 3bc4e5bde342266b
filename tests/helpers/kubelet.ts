/**
 * The kubelet's side of the Device Plugin API for the tests: serves
 * `Registration` on `<dir>/kubelet.sock`, records each request, and opens
 * clients on the plugin's endpoints.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { join } from "node:path";
import {
  loadApi,
  type RegisterRequest,
} from "../../core/device_plugin/proto.ts";

// deno-lint-ignore no-explicit-any
type Method = (this: grpc.Client, ...args: any[]) => unknown;

/** A fake kubelet. */
export class FakeKubelet {
  /** The registrations received, in order. */
  readonly registrations: RegisterRequest[] = [];
  /** When set, Register answers with this error (then it is cleared). */
  failNext: string | undefined;
  #server: grpc.Server | undefined;

  /** @param dir The device-plugins directory. */
  constructor(readonly dir: string) {}

  /** Serves kubelet.sock (made anew). */
  async start(): Promise<void> {
    const server = new grpc.Server();
    server.addService(loadApi().Registration.service, {
      Register: (
        call: grpc.ServerUnaryCall<RegisterRequest, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        if (this.failNext !== undefined) {
          const details = this.failNext;
          this.failNext = undefined;
          callback({ code: grpc.status.INVALID_ARGUMENT, details });
          return;
        }
        this.registrations.push(call.request);
        callback(null, {});
      },
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(
        `unix://${join(this.dir, "kubelet.sock")}`,
        grpc.ServerCredentials.createInsecure(),
        (error) => error ? reject(error) : resolve(),
      )
    );
    this.#server = server;
  }

  /** Stops serving and removes kubelet.sock. */
  stop(): void {
    this.#server?.forceShutdown();
    this.#server = undefined;
    try {
      Deno.removeSync(join(this.dir, "kubelet.sock"));
    } catch {
      // gone
    }
  }

  /**
   * A DevicePlugin client on an endpoint, with promise-returning unary calls.
   *
   * @param endpoint The socket's file name, as registered.
   * @returns The client.
   */
  plugin(endpoint: string): PluginClient {
    const Client = loadApi().DevicePlugin;
    const client = new Client(
      `unix://${join(this.dir, endpoint)}`,
      grpc.credentials.createInsecure(),
    );
    const unary = (method: string) => (request: unknown) =>
      new Promise<unknown>((resolve, reject) =>
        (client as unknown as Record<string, Method>)[method]!.call(
          client,
          request,
          { deadline: Date.now() + 5000 },
          (error: Error | null, value: unknown) =>
            error ? reject(error) : resolve(value),
        )
      );
    return {
      options: unary("GetDevicePluginOptions"),
      allocate: unary("Allocate"),
      preferred: unary("GetPreferredAllocation"),
      preStart: unary("PreStartContainer"),
      watch: () => new DeviceWatch(client),
      close: () => client.close(),
    };
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

/** A device list as streamed: ID -> health. */
export type DeviceList = Record<string, string>;

/** One ListAndWatch stream, its messages kept in order. */
export class DeviceWatch {
  /** Every list received. */
  readonly lists: DeviceList[] = [];
  #call: grpc.ClientReadableStream<unknown>;

  constructor(client: grpc.Client) {
    const method = (client as unknown as Record<string, Method>)
      .ListAndWatch!;
    this.#call = method.call(client, {}) as grpc.ClientReadableStream<unknown>;
    this.#call.on(
      "data",
      (message: { devices: { ID: string; health: string }[] }) => {
        this.lists.push(
          Object.fromEntries(message.devices.map((d) => [d.ID, d.health])),
        );
      },
    );
    this.#call.on("error", () => {});
  }

  #seen = 0;

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
    this.#call.cancel();
  }
}
