// Generates the firmware fixtures used by the kernel test tier, with the
// project's ELF builder (fixtures/make_elf.ts).
//
//   deno run --allow-write tests/kernel/make_fixtures.ts OUTDIR
//
// Written into OUTDIR:
//   fw.elf         ELF32 little-endian ARM executable: one PT_LOAD segment at
//                  p_paddr 0x10000000 (inside fake_rproc's da window
//                  0x10000000..0x100fffff) starting with a Cortex-M vector
//                  table (initial SP 0x10001000, e_entry 0x10000041), a
//                  .resource_table (ver 1, one RSC_TRACE entry) and a
//                  .shstrtab.
//   fw-norsc.elf   same without .resource_table (fake_rproc's parse_fw
//                  accepts that).
//   fw-baddr.elf   valid ELF whose segment lies outside the window: the
//                  kernel refuses it at start ("bad phdr da", -EINVAL).
//   fw-trunc.elf   fw.elf cut in the middle (section headers missing).
//   notelf.bin     plain text, no ELF magic.
import { makeElf } from "../../fixtures/make_elf.ts";

const DA_BASE = 0x10000000;

/**
 * A fixture image whose segment is loaded at `paddr`.
 *
 * @param paddr The segment's device address.
 * @param resourceTable Whether it has a resource table with a trace buffer.
 * @returns The image.
 */
export function buildElf(paddr: number, resourceTable: boolean): Uint8Array {
  // The segment: a fake Cortex-M vector table followed by a pattern.
  const text = new Uint8Array(256);
  const view = new DataView(text.buffer);
  view.setUint32(0, paddr + 0x1000, true); // initial SP
  view.setUint32(4, paddr + 0x41, true); // reset vector (thumb)
  for (let i = 8; i < text.length; i++) text[i] = i & 0xff;
  return makeElf({
    paddr,
    entry: paddr + 0x41,
    text,
    resourceTable: resourceTable
      ? { traces: [{ da: DA_BASE + 0x2000, len: 0x1000, name: "trace_fake" }] }
      : false,
  });
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
  const fw = buildElf(DA_BASE, true);
  Deno.writeFileSync(`${dir}/fw.elf`, fw);
  Deno.writeFileSync(`${dir}/fw-norsc.elf`, buildElf(DA_BASE, false));
  Deno.writeFileSync(`${dir}/fw-baddr.elf`, buildElf(0x20000000, false));
  Deno.writeFileSync(`${dir}/fw-trunc.elf`, fw.subarray(0, 200));
  Deno.writeFileSync(
    `${dir}/notelf.bin`,
    new TextEncoder().encode("this is not an ELF image\n".repeat(8)),
  );
}
