import assert from "node:assert/strict";
import { setUp } from "./helpers/harness.ts";
import { makeElf } from "../fixtures/make_elf.ts";

Deno.test("create refuses a file that is not an ELF image, naming it, and leaves nothing", async () => {
  await using env = await setUp();
  const bundle = env.bundle({
    files: { "fw.elf": "#!/bin/sh\n".padEnd(200, "#") },
  });
  const created = await env.run(["create", "-b", bundle, "c1"]);
  assert.equal(created.code, 1);
  assert.equal(
    created.stderr,
    "remoteproc-runtime: firmware fw.elf: is not an ELF image (bad magic)\n",
  );
  assert.deepEqual(env.containers(), []);
  assert.deepEqual(env.claims(), []);
});

Deno.test("create records the ELF machine and whether a resource table exists", async () => {
  await using env = await setUp();
  const bundle = env.bundle({
    files: { "fw.elf": makeElf({ machine: 243, resourceTable: {} }) },
  });
  assert.equal((await env.run(["create", "-b", bundle, "c1"])).code, 0);
  const { annotations } = await env.state("c1");
  assert.equal(annotations["remoteproc.firmware.format"], "elf");
  assert.equal(annotations["remoteproc.firmware.machine"], "RISC-V");
  assert.equal(annotations["remoteproc.firmware.resource-table"], "true");
});
