/**
 * The Kubernetes device plugin: advertises the remote processors to the
 * kubelet over its Device Plugin API v1beta1 (gRPC on unix sockets in the
 * kubelet's device-plugins directory), one resource per processor kind
 * (core/device_plugin/inventory.ts), and hands the processor the kubelet
 * allocates to the runtime as container annotations.
 *
 * One loop, every `pollMs` (1 s), keeps everything true:
 * - it reads the processors and streams a new device list to every
 *   `ListAndWatch` whose resource changed (a health change, a processor
 *   gone or new), logging each change on one line;
 * - each resource is served on its own socket `remoteproc-<slot>.sock`
 *   (slots 0 to 15, kept for the life of the process), made before it
 *   registers; a socket that disappears (the kubelet's start-up removes
 *   them all) is made again;
 * - when `kubelet.sock` is a new file (the kubelet restarted), every
 *   resource registers again; a failed registration (an error, no answer
 *   within 5 s, no kubelet) is one log line and a retry after a back-off
 *   doubling from 1 s to 30 s.
 *
 * Polling rather than inotify: one `stat` per socket and two small sysfs
 * reads per processor a second cost less than a watcher thread, see
 * BENCHMARKS.md. Only synchronous file calls are used (Landlock confines
 * the main thread, core/confine.ts).
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { join } from "../util/posix_path.ts";
import {
  ALLOCATED_ANNOTATION,
  NAME_ANNOTATION,
} from "../container/annotations.ts";
import type { Runtime } from "../runtime.ts";
import type { Plugin } from "../plugin/types.ts";
import type { Device } from "../device/sysfs.ts";
import {
  Inventory,
  type PluginDevice,
  type PluginResource,
} from "./inventory.ts";
import {
  API_VERSION,
  type ContainerAllocateResponse,
  type DevicePluginOptions,
  loadApi,
  type RegisterRequest,
} from "./proto.ts";

/** The kubelet's device-plugins directory. */
export const DEFAULT_KUBELET_DIR = "/var/lib/kubelet/device-plugins";
/** The kubelet's registration socket, in that directory. */
export const KUBELET_SOCKET = "kubelet.sock";
/** How many resources (processor kinds) one plugin serves. */
export const MAX_RESOURCES = 16;

/**
 * The socket file a resource slot is served on.
 *
 * @param slot 0 to {@linkcode MAX_RESOURCES} - 1.
 * @returns The file name, `remoteproc-0.sock`.
 */
export function socketName(slot: number): string {
  return `remoteproc-${slot}.sock`;
}

/**
 * The annotations `Allocate` returns for a processor: `remoteproc.name`
 * (what the issue and the docs promise) and `remoteproc.allocated`, which
 * the runtime ranks above every other selector (core/selection.ts), so that
 * no pod annotation can send the container elsewhere.
 *
 * @param id `remoteprocN`.
 * @returns The annotations.
 */
export function allocationAnnotations(id: string): Record<string, string> {
  return { [NAME_ANNOTATION]: id, [ALLOCATED_ANNOTATION]: id };
}

/** What the plugin needs. */
export interface DevicePluginConfig {
  /** The runtime context (sysroot, state root). */
  rt: Runtime;
  /**
   * The plugin matching a processor, from the plugins loaded once (vendor
   * profiles name resources).
   */
  pluginFor: (device: Device) => Plugin;
  /** The kubelet's device-plugins directory (absolute). */
  kubeletDir: string;
  /** Where log lines go. */
  log: (line: string) => void;
  /** Poll period, ms (default 1000). */
  pollMs?: number;
  /** First and longest retry delay, ms (default 1000 and 30000). */
  backoff?: { firstMs: number; maxMs: number };
  /** How long a registration may take, ms (default 5000). */
  registerTimeoutMs?: number;
}

type Stream = grpc.ServerWritableStream<unknown, unknown>;

interface Served {
  name: string;
  slot: number;
  socket: string;
  devices: PluginDevice[];
  server: grpc.Server | undefined;
  /** The socket file's identity once serving. */
  socketId: string | undefined;
  streams: Set<Stream>;
  registered: boolean;
  busy: boolean;
  attempt: number;
  retryAt: number;
  lastProblem: string | undefined;
}

/** The device plugin; {@linkcode DevicePluginService.start} runs it. */
export class DevicePluginService {
  #config: Required<DevicePluginConfig>;
  #served = new Map<string, Served>();
  #kubeletId: string | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #polling = false;
  #waiting = false;
  #lastProblem: string | undefined;
  #warnedFull = new Set<string>();
  #inventory: Inventory;

  /** @param config What the plugin needs. */
  constructor(config: DevicePluginConfig) {
    this.#config = {
      pollMs: 1000,
      backoff: { firstMs: 1000, maxMs: 30_000 },
      registerTimeoutMs: 5000,
      ...config,
    };
    this.#inventory = new Inventory(config.rt, config.pluginFor);
  }

  /** Starts serving and registering; returns after the first poll. */
  async start(): Promise<void> {
    await this.#poll();
    this.#schedule();
  }

  /** Stops: ends the streams, closes the servers, removes the sockets. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    for (const served of this.#served.values()) await this.#close(served);
    this.#inventory.close();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(async () => {
      await this.#poll();
      this.#schedule();
    }, this.#config.pollMs);
  }

  async #poll(): Promise<void> {
    if (this.#polling || this.#stopped) return;
    this.#polling = true;
    try {
      const resources = this.#read();
      const kubeletId = fileId(join(this.#config.kubeletDir, KUBELET_SOCKET));
      const kubeletRestarted = kubeletId !== undefined &&
        kubeletId !== this.#kubeletId;
      if (kubeletId === undefined && !this.#waiting) {
        this.#config.log(
          `waiting for the kubelet: ${
            join(this.#config.kubeletDir, KUBELET_SOCKET)
          } does not exist`,
        );
      }
      this.#waiting = kubeletId === undefined;
      this.#kubeletId = kubeletId;
      for (const resource of resources) this.#update(resource);
      const present = new Set(resources.map((r) => r.name));
      for (const served of this.#served.values()) {
        if (!present.has(served.name)) {
          this.#update({ name: served.name, devices: [] });
        }
      }
      for (const served of this.#served.values()) {
        if (this.#stopped) return;
        if (kubeletRestarted) {
          served.registered = false;
          served.attempt = 0;
          served.retryAt = 0;
        }
        await this.#keepServing(served);
        if (
          served.server !== undefined && !served.registered &&
          !served.busy && kubeletId !== undefined &&
          Date.now() >= served.retryAt
        ) {
          served.busy = true;
          this.#register(served).finally(() => served.busy = false);
        }
      }
    } finally {
      this.#polling = false;
    }
  }

  /** The inventory, or none (one log line) when it cannot be read. */
  #read(): PluginResource[] {
    try {
      const resources = this.#inventory.read();
      if (resources.length === 0) {
        this.#problem(
          `no remote processors under ${this.#config.rt.sysfs.sysroot}/sys/class/remoteproc: nothing to advertise yet`,
        );
      } else {
        this.#lastProblem = undefined;
      }
      return resources;
    } catch (error) {
      this.#problem(`cannot read the processors: ${(error as Error).message}`);
      return [];
    }
  }

  #problem(text: string): void {
    if (text !== this.#lastProblem) this.#config.log(text);
    this.#lastProblem = text;
  }

  /** Takes a resource's new device list; streams it when it changed. */
  #update(resource: PluginResource): void {
    let served = this.#served.get(resource.name);
    if (served === undefined) {
      const slot = this.#freeSlot();
      if (slot === undefined) {
        if (!this.#warnedFull.has(resource.name)) {
          this.#warnedFull.add(resource.name);
          this.#config.log(
            `${resource.name} not advertised: one plugin serves at most ${MAX_RESOURCES} resources`,
          );
        }
        return;
      }
      served = {
        name: resource.name,
        slot,
        socket: join(this.#config.kubeletDir, socketName(slot)),
        devices: resource.devices,
        server: undefined,
        socketId: undefined,
        streams: new Set(),
        registered: false,
        busy: false,
        attempt: 0,
        retryAt: 0,
        lastProblem: undefined,
      };
      this.#served.set(resource.name, served);
      this.#logDevices(served, [], resource.devices);
      return;
    }
    if (sameDevices(served.devices, resource.devices)) return;
    this.#logDevices(served, served.devices, resource.devices);
    served.devices = resource.devices;
    for (const stream of served.streams) stream.write(listOf(served));
  }

  #logDevices(
    served: Served,
    before: PluginDevice[],
    after: PluginDevice[],
  ): void {
    const old = new Map(before.map((d) => [d.id, d]));
    for (const device of after) {
      const was = old.get(device.id);
      old.delete(device.id);
      if (was?.health === device.health && was.reason === device.reason) {
        continue;
      }
      this.#config.log(
        `${served.name}: ${device.id} (${device.name}) is ${device.health}${
          device.reason ? `: ${device.reason}` : ""
        }`,
      );
    }
    for (const gone of old.values()) {
      this.#config.log(
        `${served.name}: ${gone.id} (${gone.name}) is gone from sysfs`,
      );
    }
  }

  #freeSlot(): number | undefined {
    const used = new Set([...this.#served.values()].map((s) => s.slot));
    for (let slot = 0; slot < MAX_RESOURCES; slot++) {
      if (!used.has(slot)) return slot;
    }
    return undefined;
  }

  /**
   * Serves the resource's socket, making it again when it is gone or is
   * another file (the kubelet removed it); a path that cannot be taken is
   * one log line and a retry after the back-off.
   */
  async #keepServing(served: Served): Promise<void> {
    if (served.server !== undefined) {
      const id = fileId(served.socket);
      if (id !== undefined && id === served.socketId) return;
      this.#config.log(
        `${served.name}: ${served.socket} was removed: serving it again`,
      );
      await this.#close(served);
    }
    if (Date.now() < served.retryAt) return;
    try {
      clearStaleSocket(served.socket);
      served.server = await this.#serve(served);
      served.socketId = fileId(served.socket);
      served.registered = false;
      served.lastProblem = undefined;
    } catch (error) {
      this.#failed(served, `cannot serve ${served.socket}: ${message(error)}`);
    }
  }

  #serve(served: Served): Promise<grpc.Server> {
    const server = new grpc.Server();
    server.addService(loadApi().DevicePlugin.service, handlers(served));
    return new Promise((resolve, reject) => {
      server.bindAsync(
        `unix://${served.socket}`,
        grpc.ServerCredentials.createInsecure(),
        (error) => {
          if (error) {
            server.forceShutdown();
            reject(error);
          } else resolve(server);
        },
      );
    });
  }

  async #close(served: Served): Promise<void> {
    for (const stream of served.streams) {
      try {
        stream.end();
      } catch {
        // the kubelet went away
      }
    }
    served.streams.clear();
    const server = served.server;
    served.server = undefined;
    served.registered = false;
    if (server !== undefined) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 200);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (
      served.socketId !== undefined && fileId(served.socket) === served.socketId
    ) {
      try {
        Deno.removeSync(served.socket);
      } catch {
        // gone already
      }
    }
    served.socketId = undefined;
  }

  async #register(served: Served): Promise<void> {
    const kubelet = join(this.#config.kubeletDir, KUBELET_SOCKET);
    const request: RegisterRequest = {
      version: API_VERSION,
      endpoint: socketName(served.slot),
      resource_name: served.name,
      options: OPTIONS,
    };
    const Registration = loadApi().Registration;
    const client = new Registration(
      `unix://${kubelet}`,
      grpc.credentials.createInsecure(),
    );
    try {
      await new Promise<void>((resolve, reject) => {
        client.Register!(
          request,
          { deadline: Date.now() + this.#config.registerTimeoutMs },
          (error: grpc.ServiceError | null) =>
            error ? reject(error) : resolve(),
        );
      });
      if (this.#stopped) return;
      served.registered = true;
      served.attempt = 0;
      served.lastProblem = undefined;
      this.#config.log(
        `${served.name}: registered with the kubelet (${kubelet}), serving ${
          socketName(served.slot)
        } with ${served.devices.length} processor(s)`,
      );
    } catch (error) {
      const status = error as Partial<grpc.ServiceError>;
      const text = status.code === grpc.status.DEADLINE_EXCEEDED
        ? `no answer within ${this.#config.registerTimeoutMs} ms`
        : status.details || message(error);
      this.#failed(served, `cannot register with the kubelet: ${text}`);
    } finally {
      client.close();
    }
  }

  /** One log line and the next attempt after the back-off. */
  #failed(served: Served, text: string): void {
    const { firstMs, maxMs } = this.#config.backoff;
    const delay = Math.min(firstMs * 2 ** served.attempt, maxMs);
    served.attempt++;
    served.retryAt = Date.now() + delay;
    this.#config.log(
      `${served.name}: ${text}; retrying in ${formatDelay(delay)}`,
    );
    served.lastProblem = text;
  }
}

const OPTIONS: DevicePluginOptions = {
  pre_start_required: false,
  get_preferred_allocation_available: true,
};

function listOf(served: Served): unknown {
  return {
    devices: served.devices.map((d) => ({ ID: d.id, health: d.health })),
  };
}

function sameDevices(a: PluginDevice[], b: PluginDevice[]): boolean {
  return a.length === b.length &&
    a.every((d, i) =>
      d.id === b[i]!.id && d.health === b[i]!.health &&
      d.reason === b[i]!.reason
    );
}

/** The DevicePlugin service of one resource. */
function handlers(served: Served): grpc.UntypedServiceImplementation {
  const known = (id: string) => served.devices.some((d) => d.id === id);
  return {
    GetDevicePluginOptions(
      _call: grpc.ServerUnaryCall<unknown, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      callback(null, OPTIONS);
    },
    ListAndWatch(stream: Stream) {
      served.streams.add(stream);
      const forget = () => served.streams.delete(stream);
      stream.on("cancelled", forget);
      stream.on("close", forget);
      stream.on("error", forget);
      stream.write(listOf(served));
    },
    GetPreferredAllocation(
      call: grpc.ServerUnaryCall<PreferredRequest, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      callback(null, {
        container_responses: call.request.container_requests.map((r) => ({
          deviceIDs: preferred(r),
        })),
      });
    },
    Allocate(
      call: grpc.ServerUnaryCall<AllocateRequest, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      const responses: ContainerAllocateResponse[] = [];
      for (const request of call.request.container_requests) {
        const ids = request.devicesIDs;
        if (ids.length !== 1) {
          callback({
            code: grpc.status.INVALID_ARGUMENT,
            details:
              `a container drives one remote processor, not ${ids.length}: request ${served.name}: 1 per container`,
          });
          return;
        }
        const id = ids[0]!;
        if (!known(id)) {
          callback({
            code: grpc.status.NOT_FOUND,
            details: `${id} is not a processor of ${served.name}`,
          });
          return;
        }
        responses.push({ envs: {}, annotations: allocationAnnotations(id) });
      }
      callback(null, { container_responses: responses });
    },
    PreStartContainer(
      _call: grpc.ServerUnaryCall<unknown, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      callback(null, {});
    },
  };
}

interface PreferredRequest {
  container_requests: {
    available_deviceIDs: string[];
    must_include_deviceIDs: string[];
    allocation_size: number;
  }[];
}

interface AllocateRequest {
  container_requests: { devicesIDs: string[] }[];
}

/**
 * The devices to prefer: the required ones, then the lowest indexes.
 *
 * @param request One container's request.
 * @returns `allocation_size` IDs (fewer when fewer are available).
 */
export function preferred(
  request: PreferredRequest["container_requests"][number],
): string[] {
  const byIndex = (a: string, b: string) =>
    Number(a.replace(/\D/g, "")) - Number(b.replace(/\D/g, ""));
  const out = [...request.must_include_deviceIDs];
  for (const id of [...request.available_deviceIDs].sort(byIndex)) {
    if (out.length >= request.allocation_size) break;
    if (!out.includes(id)) out.push(id);
  }
  return out.slice(0, Math.max(request.allocation_size, out.length));
}

/** `dev:ino` of a file, or undefined when it does not exist. */
function fileId(path: string): string | undefined {
  try {
    const info = Deno.lstatSync(path);
    return `${info.dev}:${info.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Removes a socket left at the path (by an earlier run); any other file
 * there is the caller's error ("socket path taken").
 */
function clearStaleSocket(path: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch {
    return;
  }
  if (!info.isSocket) {
    throw new Error(
      `the path is taken by a ${
        info.isDirectory ? "directory" : "file"
      } that is not a socket`,
    );
  }
  Deno.removeSync(path);
}

function message(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0]!;
}

function formatDelay(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
