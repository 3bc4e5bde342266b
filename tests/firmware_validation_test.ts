import assert from "node:assert/strict";
import { setUp } from "./helpers/harness.ts";
import { makeElf } from "../fixtures/make_elf.ts";

/** The ELF machine of this host's own programs, and its name. */
const HOST = Deno.build.arch === "aarch64"
  ? { machine: 183, name: "AArch64" }
  : { machine: 62, name: "x86-64" };

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

Deno.test("create refuses a Linux program (a copy of /usr/bin/id) as firmware, naming its interpreter, and leaves nothing", async () => {
  await using env = await setUp();
  const bundle = env.bundle({
    files: { "fw.elf": Deno.readFileSync("/usr/bin/id") },
  });
  const created = await env.run(["create", "-b", bundle, "c1"]);
  assert.equal(created.code, 1);
  assert.match(
    created.stderr,
    /^remoteproc-runtime: firmware fw\.elf: is a Linux program \(has program interpreter \/lib[^ ]*\/ld-linux[^ ]*\), not firmware\n$/,
  );
  assert.deepEqual(env.containers(), []);
  assert.deepEqual(env.claims(), []);
});

Deno.test("create refuses any image with a program interpreter, whatever its machine", async () => {
  await using env = await setUp();
  const bundle = env.bundle({
    files: { "fw.elf": makeElf({ interpreter: "/lib/ld-linux-armhf.so.3" }) },
  });
  const created = await env.run(["create", "-b", bundle, "c1"]);
  assert.equal(created.code, 1);
  assert.equal(
    created.stderr,
    "remoteproc-runtime: firmware fw.elf: is a Linux program (has program interpreter /lib/ld-linux-armhf.so.3), not firmware\n",
  );
});

Deno.test("create refuses a static image of the host's own architecture unless the plugin declares it", async () => {
  await using env = await setUp();
  const bundle = env.bundle({
    files: { "fw.elf": makeElf({ class: 64, machine: HOST.machine }) },
  });
  const created = await env.run(["create", "-b", bundle, "c1"]);
  assert.equal(created.code, 1);
  assert.equal(
    created.stderr,
    `remoteproc-runtime: firmware fw.elf: is a Linux program (built for ${HOST.name}, the host's own architecture, which plugin generic does not declare for this processor), not firmware\n`,
  );
  assert.deepEqual(env.containers(), []);
  assert.deepEqual(env.claims(), []);
});
