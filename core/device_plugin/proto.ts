/**
 * The kubelet's Device Plugin API v1beta1, as much of it as the device
 * plugin uses: field numbers and services as in the kubelet's
 * `pkg/apis/deviceplugin/v1beta1/api.proto` (the wire format depends only
 * on those), with the gogoproto options, `Device.topology`, the mounts, device nodes
 * and CDI devices of `ContainerAllocateResponse` left out (never set).
 * The text is the reference (tests hand it to protobufjs, on the kubelet's
 * side); the plugin itself encodes with the schemas below through
 * `codec.ts`, so no `.proto` file is found or parsed at run time (sources,
 * bundle and compiled binary alike) and protobufjs is never loaded.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { decode, encode, type MessageSchema } from "./codec.ts";

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

// The messages of DEVICE_PLUGIN_PROTO, field for field.
const Empty: MessageSchema = [];
const DevicePluginOptionsMsg: MessageSchema = [
  { name: "pre_start_required", no: 1, kind: "bool" },
  { name: "get_preferred_allocation_available", no: 2, kind: "bool" },
];
const RegisterRequestMsg: MessageSchema = [
  { name: "version", no: 1, kind: "string" },
  { name: "endpoint", no: 2, kind: "string" },
  { name: "resource_name", no: 3, kind: "string" },
  { name: "options", no: 4, kind: DevicePluginOptionsMsg },
];
const ListAndWatchResponse: MessageSchema = [{
  name: "devices",
  no: 1,
  kind: [
    { name: "ID", no: 1, kind: "string" },
    { name: "health", no: 2, kind: "string" },
  ],
  repeated: true,
}];
const PreferredAllocationRequest: MessageSchema = [{
  name: "container_requests",
  no: 1,
  kind: [
    { name: "available_deviceIDs", no: 1, kind: "string", repeated: true },
    { name: "must_include_deviceIDs", no: 2, kind: "string", repeated: true },
    { name: "allocation_size", no: 3, kind: "int32" },
  ],
  repeated: true,
}];
const PreferredAllocationResponse: MessageSchema = [{
  name: "container_responses",
  no: 1,
  kind: [{ name: "deviceIDs", no: 1, kind: "string", repeated: true }],
  repeated: true,
}];
const PreStartContainerRequest: MessageSchema = [
  { name: "devicesIDs", no: 1, kind: "string", repeated: true },
];
const AllocateRequest: MessageSchema = [{
  name: "container_requests",
  no: 1,
  kind: [{ name: "devicesIDs", no: 1, kind: "string", repeated: true }],
  repeated: true,
}];
const AllocateResponse: MessageSchema = [{
  name: "container_responses",
  no: 1,
  kind: [
    { name: "envs", no: 1, kind: "map" },
    { name: "annotations", no: 4, kind: "map" },
  ],
  repeated: true,
}];

/** The messages by name, for tests that check them against the text. */
export const MESSAGES: Record<string, MessageSchema> = {
  Empty,
  DevicePluginOptions: DevicePluginOptionsMsg,
  RegisterRequest: RegisterRequestMsg,
  ListAndWatchResponse,
  PreferredAllocationRequest,
  PreferredAllocationResponse,
  PreStartContainerRequest,
  PreStartContainerResponse: Empty,
  AllocateRequest,
  AllocateResponse,
};

function method(
  service: string,
  name: string,
  request: MessageSchema,
  response: MessageSchema,
  responseStream = false,
): grpc.MethodDefinition<unknown, unknown> {
  const serialize = (schema: MessageSchema) => (value: unknown) => {
    const bytes = encode(schema, value as Record<string, unknown>);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  };
  const deserialize = (schema: MessageSchema) => (bytes: Buffer) =>
    decode(schema, bytes);
  return {
    path: `/v1beta1.${service}/${name}`,
    requestStream: false,
    responseStream,
    requestSerialize: serialize(request),
    requestDeserialize: deserialize(request),
    responseSerialize: serialize(response),
    responseDeserialize: deserialize(response),
    originalName: name,
  };
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
  const dp = "DevicePlugin";
  api = {
    Registration: grpc.makeGenericClientConstructor({
      Register: method("Registration", "Register", RegisterRequestMsg, Empty),
    }, "Registration"),
    DevicePlugin: grpc.makeGenericClientConstructor({
      GetDevicePluginOptions: method(
        dp,
        "GetDevicePluginOptions",
        Empty,
        DevicePluginOptionsMsg,
      ),
      ListAndWatch: method(
        dp,
        "ListAndWatch",
        Empty,
        ListAndWatchResponse,
        true,
      ),
      GetPreferredAllocation: method(
        dp,
        "GetPreferredAllocation",
        PreferredAllocationRequest,
        PreferredAllocationResponse,
      ),
      Allocate: method(dp, "Allocate", AllocateRequest, AllocateResponse),
      PreStartContainer: method(
        dp,
        "PreStartContainer",
        PreStartContainerRequest,
        Empty,
      ),
    }, dp),
  };
  return api;
}
