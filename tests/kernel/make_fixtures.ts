// Generates the firmware fixtures used by the kernel test tier.
//
//   deno run --allow-write tests/kernel/make_fixtures.ts OUTDIR
//
// Written into OUTDIR:
//   fw.elf         ELF32 little-endian ARM executable: one PT_LOAD segment at
//                  p_paddr 0x10000000 (inside fake_rproc's da window
//                  0x10000000..0x100fffff), a .resource_table (ver 1, one
//                  RSC_TRACE entry) and a .shstrtab.
//   fw-norsc.elf   same without .resource_table (fake_rproc's parse_fw
//                  accepts that).
//   fw-baddr.elf   valid ELF whose segment lies outside the window: the
//                  kernel refuses it at start ("bad phdr da", -EINVAL).
//   fw-trunc.elf   fw.elf cut in the middle (section headers missing).
//   notelf.bin     plain text, no ELF magic.

const DA_BASE = 0x10000000;

interface Options {
  paddr: number;
  resourceTable: boolean;
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function cstr(s: string): Uint8Array {
  return new TextEncoder().encode(s + "\0");
}

export function buildElf(opts: Options): Uint8Array {
  const EHDR = 52, PHDR = 32, SHDR = 40;
  // segment payload: a fake Cortex-M vector table followed by a pattern
  const text = new Uint8Array(256);
  const tv = new DataView(text.buffer);
  tv.setUint32(0, opts.paddr + 0x1000, true); // initial SP
  tv.setUint32(4, opts.paddr + 0x41, true); // reset vector (thumb)
  for (let i = 8; i < text.length; i++) text[i] = i & 0xff;

  // resource table: ver, num, reserved[2], offset[1], then RSC_TRACE entry
  const rsc = new Uint8Array(16 + 4 + 4 + 12 + 32);
  const rv = new DataView(rsc.buffer);
  rv.setUint32(0, 1, true); // ver
  rv.setUint32(4, 1, true); // num
  rv.setUint32(16, 20, true); // offset[0]
  rv.setUint32(20, 2, true); // fw_rsc_hdr.type = RSC_TRACE
  rv.setUint32(24, DA_BASE + 0x2000, true); // trace da
  rv.setUint32(28, 0x1000, true); // trace len
  rsc.set(cstr("trace_fake"), 36);

  const names: string[] = [
    "",
    ".text",
    ...(opts.resourceTable ? [".resource_table"] : []),
    ".shstrtab",
  ];
  const nameOff: number[] = [];
  const strParts: Uint8Array[] = [];
  let strLen = 0;
  for (const n of names) {
    nameOff.push(strLen);
    const b = cstr(n);
    strParts.push(b);
    strLen += b.length;
  }
  const shstrtab = new Uint8Array(strLen);
  {
    let o = 0;
    for (const p of strParts) {
      shstrtab.set(p, o);
      o += p.length;
    }
  }

  const textOff = 0x100;
  const rscOff = align(textOff + text.length, 8);
  const strOff = opts.resourceTable ? align(rscOff + rsc.length, 8) : rscOff;
  const shOff = align(strOff + shstrtab.length, 8);
  const shnum = names.length;
  const size = shOff + shnum * SHDR;

  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  // e_ident
  out.set([
    0x7f,
    0x45,
    0x4c,
    0x46,
    1, /*ELFCLASS32*/
    1, /*LSB*/
    1, /*EV_CURRENT*/
  ], 0);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 40, true); // EM_ARM
  v.setUint32(20, 1, true); // e_version
  v.setUint32(24, opts.paddr + 0x41, true); // e_entry
  v.setUint32(28, EHDR, true); // e_phoff
  v.setUint32(32, shOff, true); // e_shoff
  v.setUint32(36, 0x05000200, true); // e_flags: EABI5, soft-float
  v.setUint16(40, EHDR, true);
  v.setUint16(42, PHDR, true);
  v.setUint16(44, 1, true); // e_phnum
  v.setUint16(46, SHDR, true);
  v.setUint16(48, shnum, true);
  v.setUint16(50, shnum - 1, true); // e_shstrndx

  // PT_LOAD
  const ph = EHDR;
  v.setUint32(ph + 0, 1, true); // PT_LOAD
  v.setUint32(ph + 4, textOff, true);
  v.setUint32(ph + 8, opts.paddr, true); // vaddr
  v.setUint32(ph + 12, opts.paddr, true); // paddr
  v.setUint32(ph + 16, text.length, true); // filesz
  v.setUint32(ph + 20, 0x1000, true); // memsz (rest zero-filled)
  v.setUint32(ph + 24, 5, true); // R|X
  v.setUint32(ph + 28, 4, true);

  out.set(text, textOff);
  if (opts.resourceTable) out.set(rsc, rscOff);
  out.set(shstrtab, strOff);

  const sh = (i: number, f: number[]) => {
    f.forEach((x, k) => v.setUint32(shOff + i * SHDR + k * 4, x, true));
  };
  let i = 1;
  // name, type, flags, addr, offset, size, link, info, addralign, entsize
  sh(i++, [
    nameOff[1]!,
    1, /*PROGBITS*/
    6, /*ALLOC|EXEC*/
    opts.paddr,
    textOff,
    text.length,
    0,
    0,
    4,
    0,
  ]);
  if (opts.resourceTable) {
    sh(i++, [
      nameOff[2]!,
      1,
      2, /*ALLOC*/
      DA_BASE + 0x1000,
      rscOff,
      rsc.length,
      0,
      0,
      8,
      0,
    ]);
  }
  sh(i++, [
    nameOff[names.length - 1]!,
    3, /*STRTAB*/
    0,
    0,
    strOff,
    shstrtab.length,
    0,
    0,
    1,
    0,
  ]);
  return out;
}

if (import.meta.main) {
  const dir = Deno.args[0];
  if (!dir) {
    Deno.stderr.writeSync(
      new TextEncoder().encode("usage: make_fixtures.ts OUTDIR\n"),
    );
    Deno.exit(2);
  }
  Deno.mkdirSync(dir, { recursive: true });
  const fw = buildElf({ paddr: DA_BASE, resourceTable: true });
  Deno.writeFileSync(`${dir}/fw.elf`, fw);
  Deno.writeFileSync(
    `${dir}/fw-norsc.elf`,
    buildElf({ paddr: DA_BASE, resourceTable: false }),
  );
  Deno.writeFileSync(
    `${dir}/fw-baddr.elf`,
    buildElf({ paddr: 0x20000000, resourceTable: false }),
  );
  Deno.writeFileSync(`${dir}/fw-trunc.elf`, fw.subarray(0, 200));
  Deno.writeFileSync(
    `${dir}/notelf.bin`,
    new TextEncoder().encode("this is not an ELF image\n".repeat(8)),
  );
}
