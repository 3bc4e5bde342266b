/**
 * The kubelet's Device Plugin API v1beta1, as much of it as the device
 * plugin uses: field numbers and services as in the kubelet's
 * `pkg/apis/deviceplugin/v1beta1/api.proto` (the wire format depends only
 * on those), with the gogoproto options, `Device.topology`, the mounts, device nodes
 * and CDI devices of `ContainerAllocateResponse` left out (never set).
 * The text is parsed by protobufjs when the device plugin starts, so no
 * `.proto` file has to be found at run time (sources, bundle and compiled
 * binary alike).
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import protobuf from "protobufjs";

/** The API version the plugin registers with. */
export const API_VERSION = "v1beta1";

/** The proto, v1beta1 field numbers. */
export const DEVICE_PLUGIN_PROTO = `
syntax = "proto3";
package v1beta1;

service Registration {
  rpc Register(RegisterRequest) returns (Empty) {}
}

service DevicePlugin {
  rpc GetDevicePluginOptions(Empty) returns (DevicePluginOptions) {}
  rpc ListAndWatch(Empty) returns (stream ListAndWatchResponse) {}
  rpc GetPreferredAllocation(PreferredAllocationRequest) returns (PreferredAllocationResponse) {}
  rpc Allocate(AllocateRequest) returns (AllocateResponse) {}
  rpc PreStartContainer(PreStartContainerRequest) returns (PreStartContainerResponse) {}
}

message DevicePluginOptions {
  bool pre_start_required = 1;
  bool get_preferred_allocation_available = 2;
}

message RegisterRequest {
  string version = 1;
  string endpoint = 2;
  string resource_name = 3;
  DevicePluginOptions options = 4;
}

message Empty {}

message ListAndWatchResponse {
  repeated Device devices = 1;
}

message Device {
  string ID = 1;
  string health = 2;
}

message PreferredAllocationRequest {
  repeated ContainerPreferredAllocationRequest container_requests = 1;
}

message ContainerPreferredAllocationRequest {
  repeated string available_deviceIDs = 1;
  repeated string must_include_deviceIDs = 2;
  int32 allocation_size = 3;
}

message PreferredAllocationResponse {
  repeated ContainerPreferredAllocationResponse container_responses = 1;
}

message ContainerPreferredAllocationResponse {
  repeated string deviceIDs = 1;
}

message PreStartContainerRequest {
  repeated string devicesIDs = 1;
}

message PreStartContainerResponse {}

message AllocateRequest {
  repeated ContainerAllocateRequest container_requests = 1;
}

message ContainerAllocateRequest {
  repeated string devicesIDs = 1;
}

message AllocateResponse {
  repeated ContainerAllocateResponse container_responses = 1;
}

message ContainerAllocateResponse {
  map<string, string> envs = 1;
  map<string, string> annotations = 4;
}
`;

/** `Device`. */
export interface ApiDevice {
  ID: string;
  health: "Healthy" | "Unhealthy";
}

/** `RegisterRequest`. */
export interface RegisterRequest {
  version: string;
  endpoint: string;
  resource_name: string;
  options?: DevicePluginOptions | null;
}

/** `DevicePluginOptions`. */
export interface DevicePluginOptions {
  pre_start_required: boolean;
  get_preferred_allocation_available: boolean;
}

/** `ContainerAllocateResponse`, the fields used. */
export interface ContainerAllocateResponse {
  envs: Record<string, string>;
  annotations: Record<string, string>;
}

/** The service definitions, as grpc-js wants them. */
export interface DevicePluginApi {
  /** `v1beta1.Registration` (the kubelet serves it). */
  Registration: grpc.ServiceClientConstructor;
  /** `v1beta1.DevicePlugin` (the plugin serves it). */
  DevicePlugin: grpc.ServiceClientConstructor;
}

let api: DevicePluginApi | undefined;

/**
 * The API's services, loaded once.
 *
 * @example Both services are there
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadApi } from "./proto.ts";
 * const api = loadApi();
 * assert.ok("Register" in api.Registration.service);
 * assert.ok("ListAndWatch" in api.DevicePlugin.service);
 * ```
 *
 * @returns The services.
 */
export function loadApi(): DevicePluginApi {
  if (api !== undefined) return api;
  const root = protobuf.parse(DEVICE_PLUGIN_PROTO, { keepCase: true }).root;
  const definition = protoLoader.fromJSON(root.toJSON(), {
    keepCase: true,
    defaults: true,
    arrays: true,
    objects: true,
  });
  const loaded = grpc.loadPackageDefinition(definition);
  const pkg = loaded["v1beta1"] as unknown as DevicePluginApi;
  api = pkg;
  return pkg;
}
