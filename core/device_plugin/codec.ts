/**
 * A protobuf (proto3) wire codec for the few message shapes of the Device
 * Plugin API: strings, bools, int32, nested messages, repeated fields and
 * `map<string, string>`. The device plugin encodes and decodes its
 * messages with it instead of parsing a `.proto` with protobufjs at start:
 * that parser and its reflection cost an idle plugin about 4.5 MiB of
 * private memory (see BENCHMARKS.md). Decoded messages carry every field,
 * missing ones at their proto3 default (`""`, `false`, `0`, `[]`, `{}`,
 * `null` for a message), as `@grpc/proto-loader` gives them with
 * `defaults`, `arrays` and `objects`. Unknown fields are skipped.
 *
 * @module
 */

/** A field's type: a scalar, a string map, or a nested message. */
export type FieldKind = "string" | "bool" | "int32" | "map" | MessageSchema;

/** One field of a message. */
export interface FieldSchema {
  /** Its name, as in the `.proto` (and the decoded object). */
  name: string;
  /** Its field number. */
  no: number;
  kind: FieldKind;
  repeated?: boolean;
}

/** A message: its fields. */
export type MessageSchema = readonly FieldSchema[];

// deno-lint-ignore no-explicit-any
type Message = Record<string, any>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

class Writer {
  readonly bytes: number[] = [];

  varint(value: number): void {
    // int32 negatives take ten bytes, as two's complement in 64 bits.
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
  }

  tag(no: number, wire: number): void {
    this.varint(no * 8 + wire);
  }

  chunk(no: number, data: Uint8Array): void {
    this.tag(no, WIRE_LEN);
    this.varint(data.length);
    for (const byte of data) this.bytes.push(byte);
  }
}

function encodeInto(w: Writer, schema: MessageSchema, message: Message): void {
  for (const field of schema) {
    const value = message[field.name];
    if (value === undefined || value === null) continue;
    if (field.kind === "map") {
      for (
        const [key, item] of Object.entries(value as Record<string, string>)
      ) {
        w.chunk(field.no, encode(MAP_ENTRY, { key, value: item }));
      }
    } else if (field.repeated) {
      for (const item of value as unknown[]) encodeOne(w, field, item, true);
    } else encodeOne(w, field, value, false);
  }
}

function encodeOne(
  w: Writer,
  field: FieldSchema,
  value: unknown,
  always: boolean,
): void {
  switch (field.kind) {
    case "string":
      if (always || value !== "") {
        w.chunk(field.no, encoder.encode(value as string));
      }
      return;
    case "bool":
      if (always || value === true) {
        w.tag(field.no, WIRE_VARINT);
        w.varint(value ? 1 : 0);
      }
      return;
    case "int32":
      if (always || value !== 0) {
        w.tag(field.no, WIRE_VARINT);
        w.varint(value as number);
      }
      return;
    case "map":
      return; // handled by encodeInto
    default:
      w.chunk(field.no, encode(field.kind, value as Message));
  }
}

/**
 * Encodes a message.
 *
 * @example A string and a nested message
 * ```ts
 * import assert from "node:assert/strict";
 * import { decode, encode, type MessageSchema } from "./codec.ts";
 * const Inner: MessageSchema = [{ name: "on", no: 1, kind: "bool" }];
 * const Outer: MessageSchema = [
 *   { name: "name", no: 1, kind: "string" },
 *   { name: "inner", no: 2, kind: Inner },
 * ];
 * const bytes = encode(Outer, { name: "m4", inner: { on: true } });
 * assert.deepEqual([...bytes], [10, 2, 109, 52, 18, 2, 8, 1]);
 * assert.deepEqual(decode(Outer, bytes), { name: "m4", inner: { on: true } });
 * ```
 *
 * @param schema The message's fields.
 * @param message The message.
 * @returns Its wire bytes.
 */
export function encode(schema: MessageSchema, message: Message): Uint8Array {
  const w = new Writer();
  encodeInto(w, schema, message);
  return new Uint8Array(w.bytes);
}

class Reader {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.at >= this.bytes.length;
  }

  varint(): bigint {
    let value = 0n;
    for (let shift = 0n;; shift += 7n) {
      if (this.at >= this.bytes.length || shift > 63n) {
        throw new Error("protobuf: a varint runs past the message");
      }
      const byte = this.bytes[this.at++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
  }

  chunk(): Uint8Array {
    const length = Number(this.varint());
    const end = this.at + length;
    if (end > this.bytes.length) {
      throw new Error("protobuf: a field runs past the message");
    }
    const data = this.bytes.subarray(this.at, end);
    this.at = end;
    return data;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.at += 8;
    else if (wire === 2) this.chunk();
    else if (wire === 5) this.at += 4;
    else throw new Error(`protobuf: wire type ${wire} is not supported`);
  }
}

function defaultOf(field: FieldSchema): unknown {
  if (field.repeated) return [];
  switch (field.kind) {
    case "string":
      return "";
    case "bool":
      return false;
    case "int32":
      return 0;
    case "map":
      return {};
    default:
      return null;
  }
}

/**
 * Decodes a message; fields it lacks get their defaults.
 *
 * @param schema The message's fields.
 * @param bytes Its wire bytes.
 * @returns The message.
 */
export function decode(schema: MessageSchema, bytes: Uint8Array): Message {
  const message: Message = {};
  for (const field of schema) message[field.name] = defaultOf(field);
  const r = new Reader(bytes);
  while (!r.done) {
    const tag = Number(r.varint());
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    const field = schema.find((f) => f.no === no);
    if (field === undefined) {
      r.skip(wire);
      continue;
    }
    if (field.kind === "map") {
      const { key, value } = decode(MAP_ENTRY, r.chunk());
      message[field.name][key] = value;
      continue;
    }
    const value = decodeOne(r, field, wire);
    if (field.repeated) message[field.name].push(value);
    else message[field.name] = value;
  }
  return message;
}

function decodeOne(r: Reader, field: FieldSchema, wire: number): unknown {
  const expected = typeof field.kind === "string" &&
      (field.kind === "bool" || field.kind === "int32")
    ? WIRE_VARINT
    : WIRE_LEN;
  if (wire !== expected) {
    throw new Error(
      `protobuf: field ${field.name} has wire type ${wire}, not ${expected}`,
    );
  }
  switch (field.kind) {
    case "string":
      return decoder.decode(r.chunk());
    case "bool":
      return r.varint() !== 0n;
    case "int32":
      return Number(BigInt.asIntN(32, r.varint()));
    case "map":
      throw new Error("unreachable");
    default:
      return decode(field.kind, r.chunk());
  }
}

/** A `map<string, string>` entry, as the wire format defines it. */
const MAP_ENTRY: MessageSchema = [
  { name: "key", no: 1, kind: "string" },
  { name: "value", no: 2, kind: "string" },
];
