/**
 * The device plugin's hand-written protobuf schemas and codec
 * (core/device_plugin/codec.ts) against the proto text they stand for,
 * parsed by protobufjs: the same fields, and bytes each side reads as the
 * other meant.
 */
import assert from "node:assert/strict";
import protobuf from "protobufjs";
import {
  decode,
  encode,
  type MessageSchema,
} from "../core/device_plugin/codec.ts";
import { DEVICE_PLUGIN_PROTO, MESSAGES } from "../core/device_plugin/proto.ts";

const root = protobuf.parse(DEVICE_PLUGIN_PROTO, { keepCase: true }).root;
const type = (name: string) => root.lookupType(`v1beta1.${name}`);

/** A schema told the way protobufjs tells a type, nested types inlined. */
function shapeOfSchema(schema: MessageSchema): unknown {
  return schema.map((f) => ({
    name: f.name,
    no: f.no,
    kind: typeof f.kind === "string" ? f.kind : shapeOfSchema(f.kind),
    repeated: f.repeated === true,
  }));
}

function shapeOfType(t: protobuf.Type): unknown {
  return t.fieldsArray.map((f) => {
    f.resolve();
    const map = f instanceof protobuf.MapField;
    return {
      name: f.name,
      no: f.id,
      kind: map
        ? "map"
        : f.resolvedType instanceof protobuf.Type
        ? shapeOfType(f.resolvedType)
        : f.type,
      repeated: f.repeated && !map,
    };
  });
}

Deno.test("every message of the device plugin proto has a schema with the same fields, numbers and types", () => {
  const names = root.lookup("v1beta1")!;
  const inText = Object.keys((names as protobuf.Namespace).nested!)
    .filter((n) => root.lookup(`v1beta1.${n}`) instanceof protobuf.Type)
    .filter((n) => !n.startsWith("Container") && n !== "Device");
  assert.deepEqual(Object.keys(MESSAGES).sort(), inText.sort());
  for (const [name, schema] of Object.entries(MESSAGES)) {
    assert.deepEqual(shapeOfSchema(schema), shapeOfType(type(name)), name);
  }
});

const samples: [string, Record<string, unknown>][] = [
  ["RegisterRequest", {
    version: "v1beta1",
    endpoint: "remoteproc-0.sock",
    resource_name: "remoteproc.io/m4",
    options: {
      pre_start_required: false,
      get_preferred_allocation_available: true,
    },
  }],
  ["ListAndWatchResponse", {
    devices: [{ ID: "remoteproc0", health: "Healthy" }, {
      ID: "remoteproc2",
      health: "Unhealthy",
    }],
  }],
  ["PreferredAllocationRequest", {
    container_requests: [{
      available_deviceIDs: ["remoteproc2", "remoteproc0"],
      must_include_deviceIDs: ["remoteproc2"],
      allocation_size: 2,
    }, {
      available_deviceIDs: [],
      must_include_deviceIDs: [],
      allocation_size: -1,
    }],
  }],
  ["AllocateResponse", {
    container_responses: [{
      envs: { A: "1", EMPTY: "" },
      annotations: { "remoteproc.name": "remoteproc2", "ünï": "cödé" },
    }],
  }],
  ["PreStartContainerRequest", { devicesIDs: ["remoteproc0", ""] }],
];

Deno.test("what the codec encodes protobufjs decodes to the same message, and the other way round", () => {
  for (const [name, message] of samples) {
    const schema = MESSAGES[name]!;
    const t = type(name);
    const ours = encode(schema, message);
    const theirs = t.toObject(t.decode(ours), {
      defaults: true,
      arrays: true,
      objects: true,
    });
    assert.deepEqual(theirs, message, `${name}: decoded by protobufjs`);
    const bytes = t.encode(t.fromObject(message)).finish();
    assert.deepEqual(
      decode(schema, bytes),
      message,
      `${name}: decoded by ours`,
    );
  }
});

Deno.test("a missing field decodes to its default and an unknown field is skipped", () => {
  const t = root.lookupType("v1beta1.RegisterRequest");
  // Field 9 (unknown, a string) and field 2 only.
  const bytes = new Uint8Array([
    ...[0x4a, 1, 0x78],
    ...t.encode(t.fromObject({ endpoint: "e.sock" })).finish(),
  ]);
  assert.deepEqual(decode(MESSAGES.RegisterRequest!, bytes), {
    version: "",
    endpoint: "e.sock",
    resource_name: "",
    options: null,
  });
});

Deno.test("a truncated message is an error, not a partial message", () => {
  const bytes = encode(MESSAGES.RegisterRequest!, { endpoint: "e.sock" });
  assert.throws(
    () => decode(MESSAGES.RegisterRequest!, bytes.subarray(0, 4)),
    /protobuf: a field runs past the message/,
  );
});
