/**
 * Firmware image validation: the checks the Linux remoteproc ELF loader
 * applies before it boots a remote processor (`rproc_elf_sanity_check`,
 * the per-segment checks of `rproc_elf_load_segments`, and the
 * `.resource_table` checks of `find_table` and `rproc_handle_resources`),
 * done in user space so that a bad image fails at `create` with a precise
 * message instead of a bare `-EINVAL` at `start`.
 *
 * Where the kernel reads without a bounds check (program header table,
 * section names, resource entries) this module checks and rejects, so any
 * input either parses or throws a {@linkcode FirmwareError}.
 *
 * @module
 */

import { FirmwareError } from "../util/errors.ts";

/**
 * Byte order of an ELF image (`EI_DATA`).
 *
 * @example The byte order of a parsed image
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Endianness, parseFirmware } from "./elf.ts";
 * import { makeElf } from "../../fixtures/make_elf.ts";
 *
 * const order: Endianness = parseFirmware(makeElf()).endianness;
 * assert.equal(order, "little");
 * ```
 */
export type Endianness = "little" | "big";

/**
 * Options for {@linkcode parseFirmware}.
 *
 * @example A big-endian host refuses a little-endian image
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFirmware, type ParseFirmwareOptions } from "./elf.ts";
 * import { FirmwareError } from "../util/errors.ts";
 * import { makeElf } from "../../fixtures/make_elf.ts";
 *
 * const options: ParseFirmwareOptions = { endianness: "big" };
 * assert.throws(() => parseFirmware(makeElf(), options), FirmwareError);
 * ```
 */
export interface ParseFirmwareOptions {
  /**
   * Byte order of the host kernel; the kernel refuses images of any other
   * order.
   *
   * @default {"little"}
   */
  endianness?: Endianness;
}

/**
 * What a resource table entry is, from its `type` word.
 *
 * @example The kind of a trace entry
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFirmware, type ResourceKind } from "./elf.ts";
 * import { makeElf } from "../../fixtures/make_elf.ts";
 *
 * const elf = makeElf({
 *   resourceTable: { traces: [{ da: 0x1000, len: 256, name: "trace0" }] },
 * });
 * const kinds: ResourceKind[] = parseFirmware(elf).resourceTable!.entries
 *   .map((entry) => entry.kind);
 * assert.deepEqual(kinds, ["trace"]);
 * ```
 */
export type ResourceKind =
  | "carveout"
  | "devmem"
  | "trace"
  | "vdev"
  | "vendor"
  | "unknown";

/**
 * One entry of the resource table.
 *
 * @example An `RSC_TRACE` entry
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFirmware, type ResourceEntry } from "./elf.ts";
 * import { makeElf } from "../../fixtures/make_elf.ts";
 *
 * const elf = makeElf({
 *   resourceTable: { traces: [{ da: 0x1000, len: 256, name: "trace0" }] },
 * });
 * const entry: ResourceEntry = parseFirmware(elf).resourceTable!.entries[0]!;
 * assert.equal(entry.type, 2);
 * assert.equal(entry.kind, "trace");
 * ```
 */
export interface ResourceEntry {
  /** The entry's `type` word (`RSC_CARVEOUT` = 0 … `RSC_VDEV` = 3, vendor 128–512). */
  type: number;
  /** The type's name; `unknown` for types the kernel skips with a warning. */
  kind: ResourceKind;
  /** Byte offset of the entry from the start of the table. */
  offset: number;
}

/**
 * A trace buffer (`RSC_TRACE`), shown by the kernel as debugfs `traceN`.
 *
 * @example The trace buffer of an image
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFirmware, type TraceEntry } from "./elf.ts";
 * import { makeElf } from "../../fixtures/make_elf.ts";
 *
 * const elf = makeElf({
 *   resourceTable: { traces: [{ da: 0x1000, len: 256, name: "trace0" }] },
 * });
 * const [trace]: TraceEntry[] = parseFirmware(elf).resourceTable!.traces;
 * assert.deepEqual(trace, { da: 0x1000, len: 256, name: "trace0" });
 * ```
 */
export interface TraceEntry {
  /** Device address of the buffer. */
  da: number;
  /** Length of the buffer in bytes. */
  len: number;
  /** Name from the entry, up to its first NUL. */
  name: string;
}

/**
 * The parsed `.resource_table` section.
 *
 * @example An image with an empty resource table
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFirmware, type ResourceTable } from "./elf.ts";
 * import { makeElf } from "../../fixtures/make_elf.ts";
 *
 * const table: ResourceTable | undefined =
 *   parseFirmware(makeElf({ resourceTable: {} })).resourceTable;
 * assert.equal(table?.version, 1);
 * assert.deepEqual(table?.entries, []);
 * ```
 */
export interface ResourceTable {
  /** Table version; always 1 (the kernel supports no other). */
  version: number;
  /** Every entry, in table order. */
  entries: ResourceEntry[];
  /** The trace entries, in table order. */
  traces: TraceEntry[];
}

/**
 * What {@linkcode parseFirmware} found in a valid image.
 *
 * @example What a minimal ARM image holds
 * ```ts
 * import assert from "node:assert/strict";
 * import { type FirmwareInfo, parseFirmware } from "./elf.ts";
 * import { makeElf } from "../../fixtures/make_elf.ts";
 *
 * const info: FirmwareInfo = parseFirmware(makeElf({ paddr: 0x1000 }));
 * assert.equal(info.class, 32);
 * assert.equal(info.machineName, "ARM");
 * assert.equal(info.entry, 0x1000n);
 * assert.equal(info.hasResourceTable, false);
 * ```
 */
export interface FirmwareInfo {
  /** ELF class: 32 or 64 bit. */
  class: 32 | 64;
  /** Byte order of the image (always the host's for a valid image). */
  endianness: Endianness;
  /** `e_machine`; the kernel does not check it. */
  machine: number;
  /** Readable name of `e_machine`, e.g. `ARM`, or `unknown (N)`. */
  machineName: string;
  /** `e_entry`, the boot address the kernel passes to the driver. */
  entry: bigint;
  /** Number of `PT_LOAD` program headers. */
  loadSegments: number;
  /**
   * The program interpreter a `PT_INTERP` header names
   * (`/lib64/ld-linux-x86-64.so.2`), which only a Linux program has; an
   * empty string when its bytes lie outside the file. Undefined without
   * `PT_INTERP`. The kernel's loader ignores it.
   */
  interpreter?: string;
  /** Whether the image has a `.resource_table` section. */
  hasResourceTable: boolean;
  /** The parsed resource table, when there is one. */
  resourceTable?: ResourceTable;
}

const MACHINE_NAMES: ReadonlyMap<number, string> = new Map([
  [2, "SPARC"],
  [3, "x86"],
  [8, "MIPS"],
  [20, "PowerPC"],
  [21, "PowerPC64"],
  [40, "ARM"],
  [42, "SuperH"],
  [62, "x86-64"],
  [83, "AVR"],
  [93, "ARC"],
  [94, "Xtensa"],
  [105, "TI MSP430"],
  [106, "Blackfin"],
  [140, "TI C6000"],
  [141, "TI C2000"],
  [142, "TI C5500"],
  [143, "TI ARP32"],
  [144, "TI PRU"],
  [164, "Hexagon"],
  [183, "AArch64"],
  [189, "MicroBlaze"],
  [195, "ARCv2"],
  [243, "RISC-V"],
  [258, "LoongArch"],
]);

/**
 * Names an ELF `e_machine` value.
 *
 * @example Name a machine
 * ```ts
 * import { machineName } from "./elf.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(machineName(40), "ARM");
 * assert.equal(machineName(9999), "unknown (9999)");
 * ```
 *
 * @param machine The `e_machine` value.
 * @returns A short name such as `ARM`, `AArch64`, `TI C6000`, or `unknown (N)`.
 */
export function machineName(machine: number): string {
  return MACHINE_NAMES.get(machine) ?? `unknown (${machine})`;
}

/** The `e_machine` of the programs each CPU architecture Deno runs on executes. */
const ARCH_MACHINES: ReadonlyMap<string, number> = new Map([
  ["x86_64", 62],
  ["aarch64", 183],
]);

/**
 * The ELF machine of a CPU architecture's own programs: what an image built
 * to run on that host, rather than on a remote processor, says.
 *
 * @example The host's machine
 * ```ts
 * import assert from "node:assert/strict";
 * import { archMachine } from "./elf.ts";
 *
 * assert.equal(archMachine("x86_64"), 62);
 * assert.equal(archMachine("aarch64"), 183);
 * assert.equal(archMachine("sparc"), undefined);
 * ```
 *
 * @param arch A `Deno.build.arch` value (`x86_64`, `aarch64`).
 * @returns Its `e_machine`, or undefined for an architecture not known here.
 */
export function archMachine(arch: string): number | undefined {
  return ARCH_MACHINES.get(arch);
}

const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
const PT_LOAD = 1;
const PT_INTERP = 3;
/** Longest interpreter path shown; longer ones are cut. */
const INTERPRETER_MAX = 256;
const SHN_UNDEF = 0;
const RSC_CARVEOUT = 0;
const RSC_DEVMEM = 1;
const RSC_TRACE = 2;
const RSC_VDEV = 3;
const RSC_VENDOR_START = 128;
const RSC_VENDOR_END = 512;
/** sizeof(struct resource_table) without the offsets. */
const RSC_TABLE_HEADER = 16;
/** sizeof(struct fw_rsc_hdr). */
const RSC_HEADER = 4;
/** sizeof(struct fw_rsc_carveout) and sizeof(struct fw_rsc_devmem). */
const RSC_MEM_SIZE = 52;
/** sizeof(struct fw_rsc_trace). */
const RSC_TRACE_SIZE = 44;
/** sizeof(struct fw_rsc_vdev) without vrings, and of one vring. */
const RSC_VDEV_SIZE = 24;
const RSC_VRING_SIZE = 20;

/** Sizes and field offsets of the ELF structures, per class. */
interface ClassLayout {
  ehdr: number;
  phdr: number;
  shdr: number;
  entry: number;
  phoff: number;
  shoff: number;
  phnum: number;
  shnum: number;
  shstrndx: number;
  pOffset: number;
  pFilesz: number;
  pMemsz: number;
  shOffset: number;
  shSize: number;
}

const ELF32: ClassLayout = {
  ehdr: 52,
  phdr: 32,
  shdr: 40,
  entry: 24,
  phoff: 28,
  shoff: 32,
  phnum: 44,
  shnum: 48,
  shstrndx: 50,
  pOffset: 4,
  pFilesz: 16,
  pMemsz: 20,
  shOffset: 16,
  shSize: 20,
};

const ELF64: ClassLayout = {
  ehdr: 64,
  phdr: 56,
  shdr: 64,
  entry: 24,
  phoff: 32,
  shoff: 40,
  phnum: 56,
  shnum: 60,
  shstrndx: 62,
  pOffset: 8,
  pFilesz: 32,
  pMemsz: 40,
  shOffset: 24,
  shSize: 32,
};

/** Bounds-checked reads; a read past the end is a FirmwareError, never a RangeError. */
class Reader {
  readonly size: number;
  #view: DataView;
  #little: boolean;
  #wide: boolean;

  constructor(bytes: Uint8Array, little: boolean, wide: boolean) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.size = bytes.byteLength;
    this.#little = little;
    this.#wide = wide;
  }

  u8(offset: number): number {
    this.#check(offset, 1);
    return this.#view.getUint8(offset);
  }

  u16(offset: number): number {
    this.#check(offset, 2);
    return this.#view.getUint16(offset, this.#little);
  }

  u32(offset: number): number {
    this.#check(offset, 4);
    return this.#view.getUint32(offset, this.#little);
  }

  /** An address-sized field: u32 in ELF32, u64 in ELF64. */
  word(offset: number): bigint {
    if (!this.#wide) return BigInt(this.u32(offset));
    this.#check(offset, 8);
    return this.#view.getBigUint64(offset, this.#little);
  }

  #check(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new FirmwareError(
        `firmware is malformed: bad read offset ${offset}`,
      );
    }
    if (offset + length > this.size) {
      throw truncated(`a ${length}-byte field`, offset + length, this.size);
    }
  }
}

/** `firmware is truncated: <what> end(s) at byte X of Y`; `what` ending in "s" is plural. */
function truncated(
  what: string,
  end: number | bigint,
  size: number,
): FirmwareError {
  const verb = what.endsWith("s") ? "end" : "ends";
  return new FirmwareError(
    `firmware is truncated: ${what} ${verb} at byte ${end} of ${size}`,
  );
}

function hex(value: bigint | number): string {
  return `0x${value.toString(16)}`;
}

/**
 * Validates a firmware image the way the Linux remoteproc ELF loader does
 * and describes it. Pure: it reads only `bytes`.
 *
 * Checks, in order: the kernel's `rproc_elf_sanity_check` (size of an ELF32
 * header, magic, class 32 or 64, a full ELF64 header for class 64, host byte
 * order, `e_shoff` plus one section header within the file, `e_phnum > 0`,
 * `e_phoff` within the file); the whole program header table within the
 * file; for each `PT_LOAD`, `p_filesz <= p_memsz` and `p_offset + p_filesz`
 * within the file; at least one `PT_LOAD`; the whole section header table
 * and the section name table within the file; and, when a
 * `.resource_table` section exists, the kernel's table checks (within the
 * file, a full header, version 1, zero reserved words, all offsets present,
 * each entry inside the table, and the size and reserved words of carveout,
 * devmem, trace and vdev entries). Like the kernel, it does not check
 * `e_machine`, `e_type`, or whether the table is present: a driver with
 * the default `parse_fw` (TI K3) still needs one, see `hasResourceTable`.
 *
 * @example Describe a firmware image
 * ```ts
 * import { parseFirmware } from "./elf.ts";
 * import { makeElf } from "../../fixtures/make_elf.ts";
 * import assert from "node:assert/strict";
 *
 * const info = parseFirmware(makeElf({ resourceTable: { traces: [{ da: 0x1000, len: 256, name: "trace0" }] } }));
 * assert.equal(info.machineName, "ARM");
 * assert.equal(info.resourceTable?.traces[0]?.name, "trace0");
 * ```
 *
 * @example Reject a file that is not ELF
 * ```ts
 * import { parseFirmware } from "./elf.ts";
 * import { FirmwareError } from "../util/errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseFirmware(new Uint8Array(64)), FirmwareError);
 * ```
 *
 * @param bytes The whole firmware file.
 * @param options The host byte order.
 * @returns What the image holds.
 * @throws {FirmwareError} The kernel would refuse the image; the message says why.
 */
export function parseFirmware(
  bytes: Uint8Array,
  options: ParseFirmwareOptions = {},
): FirmwareInfo {
  const size = bytes.byteLength;
  const { elfClass, layout, endianness } = identify(
    bytes,
    options.endianness ?? "little",
  );
  const read = new Reader(bytes, endianness === "little", elfClass === 64);
  const fileSize = BigInt(size);
  const shoff = read.word(layout.shoff);
  const shnum = read.u16(layout.shnum);
  const machine = read.u16(18);

  // rproc_elf_sanity_check, in the kernel's order.
  const firstShdrEnd = shoff + BigInt(layout.shdr);
  if (firstShdrEnd > fileSize) {
    throw truncated("section headers", firstShdrEnd, size);
  }
  const { loadSegments, interpreter } = checkSegments(bytes, read, layout);

  const shdrEnd = shoff + BigInt(shnum * layout.shdr);
  if (shdrEnd > fileSize) throw truncated("section headers", shdrEnd, size);
  const sections = new SectionTable(
    read,
    layout,
    Number(shoff),
    shnum,
    read.u16(layout.shstrndx),
  );
  const table = sections.find(".resource_table");

  const info: FirmwareInfo = {
    class: elfClass,
    endianness,
    machine,
    machineName: machineName(machine),
    entry: read.word(layout.entry),
    loadSegments,
    hasResourceTable: table !== undefined,
  };
  if (interpreter !== undefined) info.interpreter = interpreter;
  if (table !== undefined) {
    info.resourceTable = parseResourceTable(read, table.offset, table.size);
  }
  return info;
}

/**
 * `e_ident`: the magic, the class and the byte order, which must be the
 * host's (the kernel reads the image in its own).
 */
function identify(
  bytes: Uint8Array,
  host: Endianness,
): { elfClass: 32 | 64; layout: ClassLayout; endianness: Endianness } {
  const size = bytes.byteLength;
  if (size < ELF32.ehdr) throw truncated("ELF header", ELF32.ehdr, size);
  if (
    bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c ||
    bytes[3] !== 0x46
  ) {
    throw new FirmwareError("firmware is not an ELF image (bad magic)");
  }
  const classByte = bytes[4] ?? 0;
  if (classByte !== ELFCLASS32 && classByte !== ELFCLASS64) {
    throw new FirmwareError(
      `firmware has unsupported ELF class ${classByte} (expected 1 for ELF32 or 2 for ELF64)`,
    );
  }
  const elfClass = classByte === ELFCLASS32 ? 32 : 64;
  const layout = elfClass === 32 ? ELF32 : ELF64;
  if (size < layout.ehdr) throw truncated("ELF64 header", layout.ehdr, size);
  const dataByte = bytes[5] ?? 0;
  const endianness: Endianness | undefined = dataByte === 1
    ? "little"
    : dataByte === 2
    ? "big"
    : undefined;
  if (endianness === undefined) {
    throw new FirmwareError(
      `firmware has unknown ELF byte order ${dataByte} (expected 1 for little-endian or 2 for big-endian)`,
    );
  }
  if (endianness !== host) {
    throw new FirmwareError(
      `firmware is ${endianness}-endian but the host is ${host}-endian`,
    );
  }
  return { elfClass, layout, endianness };
}

/**
 * The program headers, as the rest of `rproc_elf_sanity_check` and
 * `rproc_elf_load_segments` check them.
 *
 * @returns The number of `PT_LOAD` segments (at least one), and the
 * interpreter a `PT_INTERP` header names (see
 * {@linkcode FirmwareInfo.interpreter}).
 */
function checkSegments(
  bytes: Uint8Array,
  read: Reader,
  layout: ClassLayout,
): { loadSegments: number; interpreter: string | undefined } {
  const size = bytes.byteLength;
  const fileSize = BigInt(size);
  const phoff = read.word(layout.phoff);
  const phnum = read.u16(layout.phnum);
  if (phnum === 0) {
    throw new FirmwareError("firmware has no program headers (e_phnum is 0)");
  }
  if (phoff > fileSize) {
    throw new FirmwareError(
      `firmware is truncated: program headers start at byte ${phoff} of ${size}`,
    );
  }

  // The kernel then reads all program headers without a bounds check.
  const phdrEnd = phoff + BigInt(phnum * layout.phdr);
  if (phdrEnd > fileSize) throw truncated("program headers", phdrEnd, size);

  // rproc_elf_load_segments: only PT_LOAD segments are checked and loaded.
  let loadSegments = 0;
  let interpreter: string | undefined;
  for (let i = 0; i < phnum; i++) {
    const phdr = Number(phoff) + i * layout.phdr;
    const type = read.u32(phdr);
    if (type === PT_INTERP && interpreter === undefined) {
      interpreter = interpreterPath(
        bytes,
        read.word(phdr + layout.pOffset),
        read.word(phdr + layout.pFilesz),
      );
    }
    if (type !== PT_LOAD) continue;
    loadSegments++;
    const offset = read.word(phdr + layout.pOffset);
    const filesz = read.word(phdr + layout.pFilesz);
    const memsz = read.word(phdr + layout.pMemsz);
    if (filesz > memsz) {
      throw new FirmwareError(
        `firmware segment ${i} is bad: p_filesz ${
          hex(filesz)
        } exceeds p_memsz ${hex(memsz)}`,
      );
    }
    if (offset + filesz > fileSize) {
      throw truncated(`segment ${i}`, offset + filesz, size);
    }
  }
  if (loadSegments === 0) {
    throw new FirmwareError(
      "firmware has no loadable segments (no PT_LOAD program header)",
    );
  }
  return { loadSegments, interpreter };
}

/**
 * The path in a `PT_INTERP` segment, up to its NUL, with anything but
 * printable ASCII shown as `?`; empty when the segment is outside the file.
 */
function interpreterPath(
  bytes: Uint8Array,
  offset: bigint,
  filesz: bigint,
): string {
  const end = offset + filesz;
  if (end > BigInt(bytes.byteLength)) return "";
  const path = bytes.subarray(Number(offset), Number(end));
  let text = "";
  for (const byte of path) {
    if (byte === 0 || text.length === INTERPRETER_MAX) break;
    text += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : "?";
  }
  return text;
}

/** Section lookup by name through the section name table (`e_shstrndx`). */
class SectionTable {
  #read: Reader;
  #layout: ClassLayout;
  #shoff: number;
  #shnum: number;
  #names: { offset: number; size: number } | undefined;

  constructor(
    read: Reader,
    layout: ClassLayout,
    shoff: number,
    shnum: number,
    shstrndx: number,
  ) {
    this.#read = read;
    this.#layout = layout;
    this.#shoff = shoff;
    this.#shnum = shnum;
    if (shnum === 0 || shstrndx === SHN_UNDEF) return;
    if (shstrndx >= shnum) {
      throw new FirmwareError(
        `firmware section name table index ${shstrndx} is out of range (${shnum} sections)`,
      );
    }
    const { offset, size } = this.#bounds(shstrndx, "section name table");
    this.#names = { offset, size };
  }

  /** The first section with this name (the kernel's choice), or undefined. */
  find(name: string): { offset: bigint; size: bigint } | undefined {
    if (this.#names === undefined) return undefined;
    for (let i = 0; i < this.#shnum; i++) {
      if (this.#name(i) !== name) continue;
      const shdr = this.#shoff + i * this.#layout.shdr;
      return {
        offset: this.#read.word(shdr + this.#layout.shOffset),
        size: this.#read.word(shdr + this.#layout.shSize),
      };
    }
    return undefined;
  }

  #bounds(index: number, what: string): { offset: number; size: number } {
    const shdr = this.#shoff + index * this.#layout.shdr;
    const offset = this.#read.word(shdr + this.#layout.shOffset);
    const size = this.#read.word(shdr + this.#layout.shSize);
    const end = offset + size;
    if (end > BigInt(this.#read.size)) {
      throw truncated(what, end, this.#read.size);
    }
    return { offset: Number(offset), size: Number(size) };
  }

  #name(index: number): string {
    const names = this.#names;
    if (names === undefined) return "";
    const nameOffset = this.#read.u32(this.#shoff + index * this.#layout.shdr);
    if (nameOffset >= names.size) {
      throw new FirmwareError(
        `firmware section ${index} has its name at offset ${nameOffset}, outside the ${names.size}-byte section name table`,
      );
    }
    let name = "";
    for (
      let at = names.offset + nameOffset;
      at < names.offset + names.size;
      at++
    ) {
      const byte = this.#read.u8(at);
      if (byte === 0) return name;
      name += String.fromCharCode(byte);
    }
    throw new FirmwareError(
      `firmware section ${index} has a name that runs past the end of the section name table`,
    );
  }
}

const KINDS: readonly ResourceKind[] = ["carveout", "devmem", "trace", "vdev"];

function resourceKind(type: number): ResourceKind {
  if (type >= RSC_VENDOR_START && type <= RSC_VENDOR_END) return "vendor";
  return KINDS[type] ?? "unknown";
}

/** find_table's checks, then rproc_handle_resources' checks per entry. */
function parseResourceTable(
  read: Reader,
  start: bigint,
  length: bigint,
): ResourceTable {
  const end = start + length;
  if (end > BigInt(read.size)) {
    throw truncated("resource table", end, read.size);
  }
  const at = Number(start);
  const size = Number(length);
  if (size < RSC_TABLE_HEADER) {
    throw new FirmwareError(
      `firmware resource table is too small: ${size} bytes, its header needs ${RSC_TABLE_HEADER}`,
    );
  }
  const version = read.u32(at);
  if (version !== 1) {
    throw new FirmwareError(
      `firmware resource table has unsupported version ${version} (expected 1)`,
    );
  }
  if (read.u32(at + 8) !== 0 || read.u32(at + 12) !== 0) {
    throw new FirmwareError(
      "firmware resource table has non-zero reserved words",
    );
  }
  const num = read.u32(at + 4);
  const needed = RSC_TABLE_HEADER + 4 * num;
  if (needed > size) {
    throw new FirmwareError(
      `firmware resource table is incomplete: ${num} entry offsets need ${needed} bytes, the table has ${size}`,
    );
  }

  const entries: ResourceEntry[] = [];
  const traces: TraceEntry[] = [];
  for (let i = 0; i < num; i++) {
    const offset = read.u32(at + RSC_TABLE_HEADER + 4 * i);
    if (offset + RSC_HEADER > size) {
      throw new FirmwareError(
        `firmware resource table entry ${i} is out of bounds: offset ${offset} of a ${size}-byte table`,
      );
    }
    const type = read.u32(at + offset);
    const trace = checkEntry(read, i, type, at + offset, size - offset);
    if (trace) traces.push(trace);
    entries.push({ type, kind: resourceKind(type), offset });
  }
  return { version, entries, traces };
}

/**
 * One resource entry's checks, as `rproc_handle_resources` and its
 * handlers make them.
 *
 * @param read The image.
 * @param i The entry's number, for messages.
 * @param type Its type.
 * @param start Where it starts in the image (its `fw_rsc_hdr`).
 * @param room Bytes from there to the end of the table.
 * @returns The trace buffer it describes, if it is one.
 */
function checkEntry(
  read: Reader,
  i: number,
  type: number,
  start: number,
  room: number,
): TraceEntry | undefined {
  const kind = resourceKind(type);
  const body = start + RSC_HEADER;
  const avail = room - RSC_HEADER;
  const entry = (what: string): FirmwareError =>
    new FirmwareError(`firmware resource table entry ${i} (${kind}) ${what}`);
  const need = (bytes: number): void => {
    if (bytes > avail) {
      throw entry(`is truncated: needs ${bytes} bytes, ${avail} available`);
    }
  };
  switch (type) {
    case RSC_CARVEOUT:
    case RSC_DEVMEM:
      need(RSC_MEM_SIZE);
      if (read.u32(body + 16) !== 0) {
        throw entry("has a non-zero reserved word");
      }
      return undefined;
    case RSC_TRACE:
      need(RSC_TRACE_SIZE);
      if (read.u32(body + 8) !== 0) {
        throw entry("has a non-zero reserved word");
      }
      return {
        da: read.u32(body),
        len: read.u32(body + 4),
        name: cString(read, body + 12, 32),
      };
    case RSC_VDEV: {
      need(RSC_VDEV_SIZE);
      const vrings = read.u8(body + 21);
      need(RSC_VDEV_SIZE + vrings * RSC_VRING_SIZE + read.u32(body + 16));
      if (read.u8(body + 22) !== 0 || read.u8(body + 23) !== 0) {
        throw entry("has non-zero reserved bytes");
      }
      return undefined;
    }
  }
  return undefined;
}

/** A NUL-terminated string in a fixed-size field, decoded as UTF-8. */
function cString(read: Reader, offset: number, max: number): string {
  const bytes: number[] = [];
  for (let i = 0; i < max; i++) {
    const byte = read.u8(offset + i);
    if (byte === 0) break;
    bytes.push(byte);
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
