/**
 * A CRI v1 client for the tests: the kubelet's side of the calls the CRI
 * tier makes, over a unix socket, on `@grpc/grpc-js` with the minimal proto
 * in `cri.proto` (loaded by `@grpc/proto-loader`). Fields keep the proto's
 * snake_case names; enums are their names (`CONTAINER_RUNNING`); 64-bit
 * integers are numbers.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { fromFileUrl } from "../helpers/paths.ts";

/** The proto of the calls used. */
export const CRI_PROTO = fromFileUrl(new URL("./cri.proto", import.meta.url));

/** A map field. */
export type StringMap = Record<string, string>;

/** `NamespaceMode`. */
export type NamespaceMode = "POD" | "CONTAINER" | "NODE" | "TARGET";

/** `PodSandboxConfig`, the fields used. */
export interface PodSandboxConfig {
  metadata: { name: string; uid: string; namespace: string; attempt?: number };
  hostname?: string;
  log_directory?: string;
  labels?: StringMap;
  annotations?: StringMap;
  linux?: {
    cgroup_parent?: string;
    security_context?: {
      namespace_options?: { network?: NamespaceMode; pid?: NamespaceMode };
    };
  };
}

/** `ContainerConfig`, the fields used. */
export interface ContainerConfig {
  metadata: { name: string; attempt?: number };
  image: { image: string };
  command?: string[];
  args?: string[];
  envs?: { key: string; value: string }[];
  labels?: StringMap;
  annotations?: StringMap;
  log_path?: string;
  linux?: {
    security_context?: {
      namespace_options?: { network?: NamespaceMode; pid?: NamespaceMode };
    };
  };
}

/** `ContainerState`. */
export type ContainerState =
  | "CONTAINER_CREATED"
  | "CONTAINER_RUNNING"
  | "CONTAINER_EXITED"
  | "CONTAINER_UNKNOWN";

/** `ContainerStatus`, the fields used. */
export interface ContainerStatus {
  id: string;
  metadata: { name: string; attempt: number };
  state: ContainerState;
  created_at: number;
  started_at: number;
  finished_at: number;
  exit_code: number;
  reason: string;
  message: string;
  annotations: StringMap;
  log_path: string;
}

/** `PodSandboxStatus`, the fields used. */
export interface PodSandboxStatus {
  id: string;
  state: "SANDBOX_READY" | "SANDBOX_NOTREADY";
  annotations: StringMap;
  runtime_handler: string;
}

/** A CRI call that failed: gRPC's status code and the server's details. */
export class CriError extends Error {
  /** The gRPC status code. */
  code: number;
  /** The server's message (containerd's error text). */
  details: string;

  /**
   * @param method The call.
   * @param error What grpc-js reported.
   */
  constructor(method: string, error: grpc.ServiceError) {
    super(`${method}: ${error.details || error.message}`);
    this.name = "CriError";
    this.code = error.code;
    this.details = error.details || error.message;
  }
}

type Unary = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => void;

/** The RuntimeService and ImageService calls the tests make. */
export interface CriClient {
  version(): Promise<{ runtime_name: string; runtime_version: string }>;
  runPodSandbox(config: PodSandboxConfig, handler: string): Promise<string>;
  stopPodSandbox(id: string): Promise<void>;
  removePodSandbox(id: string): Promise<void>;
  podSandboxStatus(id: string): Promise<PodSandboxStatus>;
  createContainer(
    sandboxId: string,
    config: ContainerConfig,
    sandboxConfig: PodSandboxConfig,
  ): Promise<string>;
  startContainer(id: string): Promise<void>;
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  containerStatus(id: string): Promise<ContainerStatus>;
  listContainers(sandboxId?: string): Promise<{ id: string; state: string }[]>;
  /** The image's id, or undefined when the CRI plugin does not know it. */
  imageId(image: string): Promise<string | undefined>;
  close(): void;
}

/**
 * Connects to a CRI server.
 *
 * @param socket Path of its unix socket.
 * @param deadlineMs Per-call deadline.
 * @returns The client.
 */
export function connectCri(socket: string, deadlineMs = 120_000): CriClient {
  const definition = protoLoader.loadSync(CRI_PROTO, {
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
  });
  const proto = grpc.loadPackageDefinition(definition) as unknown as {
    runtime: {
      v1: Record<string, grpc.ServiceClientConstructor>;
    };
  };
  const address = `unix://${socket}`;
  const credentials = grpc.credentials.createInsecure();
  const runtime = new proto.runtime.v1.RuntimeService!(address, credentials);
  const images = new proto.runtime.v1.ImageService!(address, credentials);

  function call<T>(
    client: grpc.Client,
    method: string,
    request: unknown,
  ): Promise<T> {
    const fn = (client as unknown as Record<string, Unary>)[method]!;
    return new Promise((resolve, reject) => {
      fn.call(
        client,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + deadlineMs },
        (error, response) => {
          if (error) reject(new CriError(method, error));
          else resolve(response as T);
        },
      );
    });
  }

  return {
    version: () => call(runtime, "Version", { version: "v1" }),
    async runPodSandbox(config, handler) {
      const r = await call<{ pod_sandbox_id: string }>(
        runtime,
        "RunPodSandbox",
        { config, runtime_handler: handler },
      );
      return r.pod_sandbox_id;
    },
    async stopPodSandbox(id) {
      await call(runtime, "StopPodSandbox", { pod_sandbox_id: id });
    },
    async removePodSandbox(id) {
      await call(runtime, "RemovePodSandbox", { pod_sandbox_id: id });
    },
    async podSandboxStatus(id) {
      const r = await call<{ status: PodSandboxStatus }>(
        runtime,
        "PodSandboxStatus",
        { pod_sandbox_id: id },
      );
      return r.status;
    },
    async createContainer(sandboxId, config, sandboxConfig) {
      const r = await call<{ container_id: string }>(
        runtime,
        "CreateContainer",
        {
          pod_sandbox_id: sandboxId,
          config,
          sandbox_config: sandboxConfig,
        },
      );
      return r.container_id;
    },
    async startContainer(id) {
      await call(runtime, "StartContainer", { container_id: id });
    },
    async stopContainer(id, timeoutSeconds) {
      await call(runtime, "StopContainer", {
        container_id: id,
        timeout: timeoutSeconds,
      });
    },
    async removeContainer(id) {
      await call(runtime, "RemoveContainer", { container_id: id });
    },
    async containerStatus(id) {
      const r = await call<{ status: ContainerStatus }>(
        runtime,
        "ContainerStatus",
        { container_id: id },
      );
      return r.status;
    },
    async listContainers(sandboxId) {
      const r = await call<{ containers: { id: string; state: string }[] }>(
        runtime,
        "ListContainers",
        { filter: sandboxId ? { pod_sandbox_id: sandboxId } : {} },
      );
      return r.containers;
    },
    async imageId(image) {
      const r = await call<{ image: { id: string } | null }>(
        images,
        "ImageStatus",
        { image: { image } },
      );
      return r.image?.id || undefined;
    },
    close() {
      runtime.close();
      images.close();
    },
  };
}
