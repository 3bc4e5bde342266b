/**
 * Writes a firmware ELF (`fixtures/make_elf.ts`) for the engine tests:
 * `deno run -P=demo tests/engines/make_fw.ts OUT`.
 *
 * @module
 */
import { makeElf } from "../../fixtures/make_elf.ts";

const out = Deno.args[0];
if (!out) throw new Error("usage: make_fw.ts OUT");
Deno.writeFileSync(out, makeElf());
