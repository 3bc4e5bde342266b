import assert from "node:assert/strict";
import { parseFirmware } from "../core/firmware/elf.ts";
import { FirmwareError } from "../core/util/errors.ts";
import {
  encodeResourceTable,
  makeElf,
  setHeaderField,
  setProgramHeaderField,
  setSectionHeaderField,
} from "../fixtures/make_elf.ts";

const TRACE = { da: 0x20000000, len: 0x1000, name: "trace0" };

/** Asserts that parsing fails with a FirmwareError whose message matches. */
function rejects(bytes: Uint8Array, message: RegExp | string): void {
  assert.throws(
    () => parseFirmware(bytes),
    (error: unknown) => {
      assert.ok(
        error instanceof FirmwareError,
        `not a FirmwareError: ${error}`,
      );
      if (typeof message === "string") assert.equal(error.message, message);
      else assert.match(error.message, message);
      assert.doesNotMatch(error.message, /\n/);
      assert.match(error.message, /^[a-z]/);
      return true;
    },
  );
}

/** A table with `num` offsets, each given, and `extra` bytes of entries. */
function rawTable(
  offsets: number[],
  entries: Uint8Array = new Uint8Array(),
): Uint8Array {
  const header = 16 + 4 * offsets.length;
  const bytes = new Uint8Array(header + entries.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 1, true);
  view.setUint32(4, offsets.length, true);
  offsets.forEach((offset, i) => view.setUint32(16 + 4 * i, offset, true));
  bytes.set(entries, header);
  return bytes;
}

/** Little-endian u32 words as bytes. */
function words(...values: number[]): Uint8Array {
  const bytes = new Uint8Array(4 * values.length);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setUint32(4 * i, value, true));
  return bytes;
}

// --- valid images ---------------------------------------------------------

Deno.test("parseFirmware() describes a default ARM ELF32 image without a resource table", () => {
  const info = parseFirmware(makeElf({ paddr: 0x1000, entry: 0x1001 }));
  assert.deepEqual(info, {
    class: 32,
    endianness: "little",
    machine: 40,
    machineName: "ARM",
    entry: 0x1001n,
    loadSegments: 1,
    hasResourceTable: false,
  });
  assert.equal("resourceTable" in info, false);
});

Deno.test("parseFirmware() describes an AArch64 ELF64 image with a 64-bit entry point", () => {
  const image = setHeaderField(
    makeElf({ class: 64 }),
    "e_entry",
    0x1_0000_0000n,
  );
  const info = parseFirmware(image);
  assert.equal(info.class, 64);
  assert.equal(info.machine, 183);
  assert.equal(info.machineName, "AArch64");
  assert.equal(info.entry, 0x1_0000_0000n);
  assert.equal(info.loadSegments, 1);
});

Deno.test("parseFirmware() names common remote processor machines and does not reject unknown ones", () => {
  assert.equal(
    parseFirmware(makeElf({ machine: 140 })).machineName,
    "TI C6000",
  );
  assert.equal(parseFirmware(makeElf({ machine: 94 })).machineName, "Xtensa");
  assert.equal(parseFirmware(makeElf({ machine: 243 })).machineName, "RISC-V");
  assert.equal(
    parseFirmware(makeElf({ machine: 4242 })).machineName,
    "unknown (4242)",
  );
});

Deno.test("parseFirmware() reports the program interpreter a PT_INTERP header names", () => {
  const info = parseFirmware(
    makeElf({
      class: 64,
      machine: 62,
      interpreter: "/lib64/ld-linux-x86-64.so.2",
    }),
  );
  assert.equal(info.interpreter, "/lib64/ld-linux-x86-64.so.2");
  assert.equal(info.loadSegments, 1);
  assert.equal("interpreter" in parseFirmware(makeElf()), false);
});

Deno.test("parseFirmware() reports an interpreter outside the file as empty and shows odd bytes as ?", () => {
  const program = makeElf({ interpreter: "/lib/ld\n.so" });
  assert.equal(parseFirmware(program).interpreter, "/lib/ld?.so");
  const outside = setProgramHeaderField(program, 1, "p_offset", 0xffff);
  assert.equal(parseFirmware(outside).interpreter, "");
});

Deno.test("parseFirmware() does not check e_type, as the kernel does not", () => {
  assert.equal(parseFirmware(setHeaderField(makeElf(), "e_type", 1)).class, 32);
});

Deno.test("parseFirmware() accepts a big-endian image when the host is big-endian", () => {
  const info = parseFirmware(
    makeElf({ bigEndian: true, resourceTable: { traces: [TRACE] } }),
    {
      endianness: "big",
    },
  );
  assert.equal(info.endianness, "big");
  assert.deepEqual(info.resourceTable?.traces, [TRACE]);
});

Deno.test("parseFirmware() reads a Uint8Array that is a view into a larger buffer", () => {
  const image = makeElf({ resourceTable: { traces: [TRACE] } });
  const buffer = new Uint8Array(image.length + 37);
  buffer.set(image, 13);
  const info = parseFirmware(buffer.subarray(13, 13 + image.length));
  assert.deepEqual(info.resourceTable?.traces, [TRACE]);
});

// --- rproc_elf_sanity_check ----------------------------------------------

Deno.test("parseFirmware() rejects an image smaller than an ELF32 header", () => {
  rejects(
    new Uint8Array(),
    "firmware is truncated: ELF header ends at byte 52 of 0",
  );
  rejects(
    makeElf().subarray(0, 51),
    "firmware is truncated: ELF header ends at byte 52 of 51",
  );
});

Deno.test("parseFirmware() rejects an image without the ELF magic", () => {
  const image = makeElf();
  image[1] = 0x45 + 1;
  rejects(image, "firmware is not an ELF image (bad magic)");
  rejects(new Uint8Array(4096), "firmware is not an ELF image (bad magic)");
});

Deno.test("parseFirmware() rejects an ELF class other than 32 or 64", () => {
  const image = makeElf();
  image[4] = 3;
  rejects(
    image,
    "firmware has unsupported ELF class 3 (expected 1 for ELF32 or 2 for ELF64)",
  );
  image[4] = 0;
  rejects(image, /unsupported ELF class 0/);
});

Deno.test("parseFirmware() rejects an ELF64 image shorter than an ELF64 header", () => {
  rejects(
    makeElf({ class: 64 }).subarray(0, 60),
    "firmware is truncated: ELF64 header ends at byte 64 of 60",
  );
});

Deno.test("parseFirmware() refuses a big-endian image on a little-endian host", () => {
  rejects(
    makeElf({ bigEndian: true }),
    "firmware is big-endian but the host is little-endian",
  );
  rejects(
    makeElf({ class: 64, bigEndian: true }),
    "firmware is big-endian but the host is little-endian",
  );
});

Deno.test("parseFirmware() refuses a little-endian image on a big-endian host", () => {
  assert.throws(
    () => parseFirmware(makeElf(), { endianness: "big" }),
    new FirmwareError("firmware is little-endian but the host is big-endian"),
  );
});

Deno.test("parseFirmware() rejects an unknown ELF byte order", () => {
  const image = makeElf();
  image[5] = 0;
  rejects(
    image,
    "firmware has unknown ELF byte order 0 (expected 1 for little-endian or 2 for big-endian)",
  );
});

Deno.test("parseFirmware() rejects an image whose section headers lie past the end", () => {
  const image = makeElf();
  rejects(
    setHeaderField(image, "e_shoff", image.length),
    `firmware is truncated: section headers end at byte ${
      image.length + 40
    } of ${image.length}`,
  );
  const wide = makeElf({ class: 64 });
  rejects(
    setHeaderField(wide, "e_shoff", 0xffff_ffff_ffff_fff0n),
    /^firmware is truncated: section headers end at byte 18446744073709551664 of \d+$/,
  );
});

Deno.test("parseFirmware() checks one section header of the class's size, not e_shentsize, as the kernel does", () => {
  const image = makeElf();
  // Room for 39 of the 40 bytes of a section header: refused even with e_shentsize 0.
  const shortByOne = setHeaderField(
    setHeaderField(image, "e_shoff", image.length - 39),
    "e_shentsize",
    0,
  );
  rejects(
    shortByOne,
    `firmware is truncated: section headers end at byte ${
      image.length + 1
    } of ${image.length}`,
  );
});

Deno.test("parseFirmware() rejects an image without program headers", () => {
  rejects(
    setHeaderField(makeElf(), "e_phnum", 0),
    "firmware has no program headers (e_phnum is 0)",
  );
});

Deno.test("parseFirmware() rejects program headers that start past the end", () => {
  const image = makeElf();
  rejects(
    setHeaderField(image, "e_phoff", image.length + 1),
    `firmware is truncated: program headers start at byte ${
      image.length + 1
    } of ${image.length}`,
  );
});

Deno.test("parseFirmware() rejects a program header table that runs past the end", () => {
  const image = makeElf();
  rejects(
    setHeaderField(image, "e_phoff", image.length - 8),
    `firmware is truncated: program headers end at byte ${
      image.length + 24
    } of ${image.length}`,
  );
  rejects(
    setHeaderField(image, "e_phnum", 0xffff),
    /^firmware is truncated: program headers end at byte \d+ of \d+$/,
  );
});

// --- segments (rproc_elf_load_segments) -----------------------------------

Deno.test("parseFirmware() rejects a PT_LOAD segment whose file size exceeds its memory size", () => {
  rejects(
    setProgramHeaderField(makeElf(), 0, "p_memsz", 4),
    "firmware segment 0 is bad: p_filesz 0x10 exceeds p_memsz 0x4",
  );
});

Deno.test("parseFirmware() rejects a PT_LOAD segment whose data runs past the end", () => {
  const image = setProgramHeaderField(makeElf(), 0, "p_memsz", 0x10000);
  rejects(
    setProgramHeaderField(image, 0, "p_filesz", 0x10000),
    /^firmware is truncated: segment 0 ends at byte 65624 of \d+$/,
  );
  const wide = setProgramHeaderField(
    makeElf({ class: 64 }),
    0,
    "p_offset",
    0xffff_ffff_ffff_ffffn,
  );
  rejects(
    wide,
    /^firmware is truncated: segment 0 ends at byte 18446744073709551631 of \d+$/,
  );
});

Deno.test("parseFirmware() ignores the sizes of segments that are not PT_LOAD", () => {
  const image = setProgramHeaderField(makeElf(), 0, "p_filesz", 0x10000);
  rejects(image, /segment 0/);
  const note = setProgramHeaderField(image, 0, "p_type", 4); // PT_NOTE
  rejects(
    note,
    "firmware has no loadable segments (no PT_LOAD program header)",
  );
});

Deno.test("parseFirmware() rejects an image with no PT_LOAD segment", () => {
  rejects(
    setProgramHeaderField(makeElf(), 0, "p_type", 0),
    "firmware has no loadable segments (no PT_LOAD program header)",
  );
});

// --- sections -------------------------------------------------------------

Deno.test("parseFirmware() rejects a section header table that runs past the end", () => {
  const image = makeElf();
  rejects(
    setHeaderField(image, "e_shnum", 4),
    `firmware is truncated: section headers end at byte ${
      image.length + 40
    } of ${image.length}`,
  );
});

Deno.test("parseFirmware() rejects a section name table index out of range", () => {
  rejects(
    setHeaderField(makeElf(), "e_shstrndx", 3),
    "firmware section name table index 3 is out of range (3 sections)",
  );
});

Deno.test("parseFirmware() rejects a section name table that runs past the end", () => {
  const image = makeElf();
  rejects(
    setSectionHeaderField(image, 2, "sh_size", 0x10000),
    /^firmware is truncated: section name table ends at byte \d+ of \d+$/,
  );
});

Deno.test("parseFirmware() rejects a section name outside the section name table", () => {
  rejects(
    setSectionHeaderField(makeElf(), 1, "sh_name", 500),
    /^firmware section 1 has its name at offset 500, outside the \d+-byte section name table$/,
  );
});

Deno.test("parseFirmware() rejects a section name that is not terminated inside the section name table", () => {
  const image = makeElf();
  // .shstrtab is "\0.text\0.shstrtab\0": cut it inside ".shstrtab".
  rejects(
    setSectionHeaderField(image, 2, "sh_size", 10),
    "firmware section 2 has a name that runs past the end of the section name table",
  );
});

Deno.test("parseFirmware() treats an image without section names or sections as having no resource table", () => {
  const image = makeElf({ resourceTable: { traces: [TRACE] } });
  assert.equal(
    parseFirmware(setHeaderField(image, "e_shstrndx", 0)).hasResourceTable,
    false,
  );
  assert.equal(
    parseFirmware(setHeaderField(image, "e_shnum", 0)).hasResourceTable,
    false,
  );
});

// --- resource table -------------------------------------------------------

Deno.test("parseFirmware() parses a resource table with trace entries", () => {
  const second = {
    da: 0x20001000,
    len: 0x800,
    name: "a-name-of-exactly-31-bytes-long",
  };
  const info = parseFirmware(
    makeElf({ resourceTable: { traces: [TRACE, second] } }),
  );
  assert.equal(info.hasResourceTable, true);
  assert.deepEqual(info.resourceTable, {
    version: 1,
    entries: [
      { type: 2, kind: "trace", offset: 24 },
      { type: 2, kind: "trace", offset: 72 },
    ],
    traces: [TRACE, second],
  });
});

Deno.test("parseFirmware() parses an empty resource table", () => {
  const info = parseFirmware(makeElf({ resourceTable: {} }));
  assert.deepEqual(info.resourceTable, { version: 1, entries: [], traces: [] });
});

Deno.test("parseFirmware() parses the resource table of an ELF64 image", () => {
  const info = parseFirmware(
    makeElf({ class: 64, resourceTable: { traces: [TRACE] } }),
  );
  assert.deepEqual(info.resourceTable?.traces, [TRACE]);
});

Deno.test("parseFirmware() lists carveout, devmem, vdev, vendor and unknown entries by kind", () => {
  const carveout = words(
    0,
    0x1000,
    0,
    0x2000,
    0,
    0,
    ...new Array<number>(8).fill(0),
  );
  const devmem = words(1, ...new Array<number>(13).fill(0));
  const vdev = words(3, 7, 0, 0, 0, 0, 0x0000_0100, 0, 0, 0, 0, 0); // one vring, no config
  const vendor = words(128);
  const unknown = words(9);
  const entries = [carveout, devmem, vdev, vendor, unknown];
  let offset = 16 + 4 * entries.length;
  const offsets = entries.map((entry) =>
    (offset += entry.length) - entry.length
  );
  const info = parseFirmware(
    makeElf({
      resourceTable: rawTable(
        offsets,
        new Uint8Array(entries.flatMap((e) => [...e])),
      ),
    }),
  );
  assert.deepEqual(info.resourceTable?.entries.map((e) => e.kind), [
    "carveout",
    "devmem",
    "vdev",
    "vendor",
    "unknown",
  ]);
  assert.deepEqual(info.resourceTable?.traces, []);
});

Deno.test("parseFirmware() rejects a resource table that runs past the end of the file", () => {
  const image = makeElf({ resourceTable: { traces: [TRACE] } });
  rejects(
    setSectionHeaderField(image, 2, "sh_size", 0x10000),
    /^firmware is truncated: resource table ends at byte \d+ of \d+$/,
  );
  const wide = makeElf({ class: 64, resourceTable: {} });
  rejects(
    setSectionHeaderField(wide, 2, "sh_offset", 0xffff_ffff_ffff_fff0n),
    /^firmware is truncated: resource table ends at byte \d+ of \d+$/,
  );
});

Deno.test("parseFirmware() rejects a resource table smaller than its header", () => {
  const image = makeElf({ resourceTable: { traces: [TRACE] } });
  rejects(
    setSectionHeaderField(image, 2, "sh_size", 12),
    "firmware resource table is too small: 12 bytes, its header needs 16",
  );
});

Deno.test("parseFirmware() rejects a resource table version other than 1", () => {
  rejects(
    makeElf({ resourceTable: { version: 2 } }),
    "firmware resource table has unsupported version 2 (expected 1)",
  );
  rejects(
    makeElf({ resourceTable: { version: 0 } }),
    "firmware resource table has unsupported version 0 (expected 1)",
  );
});

Deno.test("parseFirmware() rejects a resource table with non-zero reserved words", () => {
  rejects(
    makeElf({ resourceTable: { reserved: [0, 1] } }),
    "firmware resource table has non-zero reserved words",
  );
  rejects(
    makeElf({ resourceTable: { reserved: [1, 0] } }),
    "firmware resource table has non-zero reserved words",
  );
});

Deno.test("parseFirmware() rejects a resource table whose offset array is truncated", () => {
  const table = encodeResourceTable({ traces: [TRACE] });
  new DataView(table.buffer).setUint32(4, 100, true);
  rejects(
    makeElf({ resourceTable: table }),
    "firmware resource table is incomplete: 100 entry offsets need 416 bytes, the table has 68",
  );
  new DataView(table.buffer).setUint32(4, 0xffff_ffff, true);
  rejects(
    makeElf({ resourceTable: table }),
    /^firmware resource table is incomplete: 4294967295 entry offsets/,
  );
});

Deno.test("parseFirmware() rejects a resource entry offset outside the table", () => {
  rejects(
    makeElf({ resourceTable: rawTable([100]) }),
    "firmware resource table entry 0 is out of bounds: offset 100 of a 20-byte table",
  );
  rejects(
    makeElf({ resourceTable: rawTable([17]) }),
    "firmware resource table entry 0 is out of bounds: offset 17 of a 20-byte table",
  );
  rejects(
    makeElf({ resourceTable: rawTable([0xffff_fffc]) }),
    /entry 0 is out of bounds: offset 4294967292/,
  );
});

Deno.test("parseFirmware() rejects a truncated trace entry", () => {
  const table = rawTable([20], words(2, TRACE.da, TRACE.len, 0));
  rejects(
    makeElf({ resourceTable: table }),
    "firmware resource table entry 0 (trace) is truncated: needs 44 bytes, 12 available",
  );
});

Deno.test("parseFirmware() rejects a trace entry with a non-zero reserved word", () => {
  const table = encodeResourceTable({ traces: [TRACE] });
  new DataView(table.buffer).setUint32(20 + 12, 1, true);
  rejects(
    makeElf({ resourceTable: table }),
    "firmware resource table entry 0 (trace) has a non-zero reserved word",
  );
});

Deno.test("parseFirmware() reads a trace name that fills all 32 bytes without a NUL", () => {
  const table = encodeResourceTable({ traces: [TRACE] });
  table.fill(0x41, 20 + 16, 20 + 48);
  const info = parseFirmware(makeElf({ resourceTable: table }));
  assert.equal(info.resourceTable?.traces[0]?.name, "A".repeat(32));
});

Deno.test("parseFirmware() rejects truncated carveout, devmem and vdev entries", () => {
  rejects(
    makeElf({ resourceTable: rawTable([20], words(0, 0, 0)) }),
    "firmware resource table entry 0 (carveout) is truncated: needs 52 bytes, 8 available",
  );
  rejects(
    makeElf({ resourceTable: rawTable([20], words(1)) }),
    "firmware resource table entry 0 (devmem) is truncated: needs 52 bytes, 0 available",
  );
  // A vdev that declares two vrings and 8 config bytes it does not have.
  const vdev = words(3, 7, 0, 0, 0, 8, 0x0000_0200);
  rejects(
    makeElf({ resourceTable: rawTable([20], vdev) }),
    "firmware resource table entry 0 (vdev) is truncated: needs 72 bytes, 24 available",
  );
});

Deno.test("parseFirmware() rejects carveout and vdev entries with non-zero reserved bytes", () => {
  rejects(
    makeElf({
      resourceTable: rawTable(
        [20],
        words(0, 0, 0, 0, 0, 1, ...new Array<number>(8).fill(0)),
      ),
    }),
    "firmware resource table entry 0 (carveout) has a non-zero reserved word",
  );
  rejects(
    makeElf({
      resourceTable: rawTable([20], words(3, 0, 0, 0, 0, 0, 0x0100_0000)),
    }),
    "firmware resource table entry 0 (vdev) has non-zero reserved bytes",
  );
});

Deno.test("parseFirmware() uses the first .resource_table section, as the kernel does", () => {
  // Rename .text to .resource_table: it comes first and holds no valid table.
  const image = makeElf({ resourceTable: { traces: [TRACE] } });
  const renamed = setSectionHeaderField(image, 1, "sh_name", 7);
  rejects(renamed, /resource table/);
});

// --- robustness -----------------------------------------------------------

/** mulberry32: a small seeded PRNG, so failures reproduce. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function onlyFirmwareErrors(image: Uint8Array, what: string): void {
  try {
    parseFirmware(image);
  } catch (error) {
    if (!(error instanceof FirmwareError)) {
      throw new Error(`${what}: threw ${error}`, { cause: error });
    }
    assert.match(error.message, /^firmware [^\n]+$/, what);
  }
}

const SAMPLES = [
  makeElf({ resourceTable: { traces: [TRACE, TRACE] } }),
  makeElf({ class: 64, resourceTable: { traces: [TRACE] } }),
  makeElf(),
  makeElf({
    class: 64,
    machine: 62,
    interpreter: "/lib64/ld-linux-x86-64.so.2",
  }),
];

Deno.test("parseFirmware() throws only FirmwareError for every truncation of a valid image", () => {
  for (const image of SAMPLES) {
    for (let length = 0; length < image.length; length++) {
      onlyFirmwareErrors(image.subarray(0, length), `length ${length}`);
    }
  }
});

Deno.test("parseFirmware() throws only FirmwareError for random byte changes to a valid image", () => {
  const random = prng(0x5eed);
  let rejected = 0;
  for (let round = 0; round < 6000; round++) {
    const image = SAMPLES[round % SAMPLES.length]!.slice();
    const changes = 1 + Math.floor(random() * 4);
    const log: string[] = [];
    for (let i = 0; i < changes; i++) {
      const at = Math.floor(random() * image.length);
      const value = random() < 0.3 ? 0xff : Math.floor(random() * 256);
      image[at] = value;
      log.push(`[${at}]=${value}`);
    }
    const cut = random() < 0.2
      ? Math.floor(random() * image.length)
      : image.length;
    onlyFirmwareErrors(
      image.subarray(0, cut),
      `round ${round} ${log.join(" ")} cut ${cut}`,
    );
    try {
      parseFirmware(image.subarray(0, cut));
    } catch {
      rejected++;
    }
  }
  // The changes must actually exercise the error paths.
  assert.ok(rejected > 1000, `only ${rejected} rejected`);
});

Deno.test("parseFirmware() throws only FirmwareError for random bytes behind a valid ELF identification", () => {
  const random = prng(42);
  for (let round = 0; round < 2000; round++) {
    const image = new Uint8Array(52 + Math.floor(random() * 300));
    for (let i = 0; i < image.length; i++) {
      image[i] = Math.floor(random() * 256);
    }
    image.set([0x7f, 0x45, 0x4c, 0x46, 1 + (round % 2), 1]);
    onlyFirmwareErrors(image, `round ${round}`);
  }
});

// --- committed fixture ----------------------------------------------------

Deno.test("the bundle fixture fw.elf is the generator's ARM image with one trace buffer", () => {
  const bytes = Deno.readFileSync(
    new URL("../fixtures/bundle/rootfs/fw.elf", import.meta.url),
  );
  assert.deepEqual(bytes, makeElf({ resourceTable: { traces: [TRACE] } }));
  const info = parseFirmware(bytes);
  assert.equal(info.machineName, "ARM");
  assert.deepEqual(info.resourceTable?.traces, [TRACE]);
});
