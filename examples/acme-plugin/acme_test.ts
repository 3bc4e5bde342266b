// The ACME plugin's tests, written only against the test kit. They run
// against a runtime built with this directory's plugin list:
// `deno task test:vendor` in the runtime's checkout builds one and sets
// REMOTEPROC_RUNTIME_BIN to it.
import assert from "node:assert/strict";
import {
  assertClean,
  assertNoViolations,
  makeElf,
  setUp,
} from "@remoteproc/runtime/testing";

const M7 = { name: "m7_0", driver: "acme-rproc", compatible: ["acme,a1-m7"] };
const SAFETY = { ...M7, name: "m7_safety" };
const m7 = { "remoteproc.name": "m7_0" };

/** ACME firmware: a resource table and the SDK's version note. */
function acmeFirmware(note = "ACME-FW-VERSION=1.4.0"): Uint8Array {
  return makeElf({
    resourceTable: {},
    text: new TextEncoder().encode(note.padEnd(32, "\0")),
  });
}

Deno.test("acme: the built runtime lists the plugin from its configuration entry", async () => {
  await using env = await setUp([M7]);
  const result = await env.run(["features"]);
  assert.equal(result.code, 0, result.stderr);
  const annotations = JSON.parse(result.stdout).annotations;
  assert.match(annotations["org.remoteproc-runtime.plugins"], /^acme,/);
  const acme = JSON.parse(annotations["org.remoteproc-runtime.plugin.acme"]);
  assert.match(acme.source, /^configuration: .*mod\.ts$/);
  assert.deepEqual(acme.annotations, ["remoteproc.acme.min-version"]);
});

Deno.test("acme: firmware with the version note runs on an acme-rproc core, stored under acme/", async () => {
  await using env = await setUp([M7]);
  await env.deploy("c1", {
    annotations: m7,
    files: { "fw.elf": acmeFirmware() },
  });
  assert.equal(env.sim.state(0), "running");
  assert.match(env.sim.firmware(0), /^acme\//);
  assert.match(env.storedFirmware().join(), /^acme\/[^,]+$/);
  assert.equal((await env.run(["delete", "--force", "c1"])).code, 0);
  await assertClean(env);
  assertNoViolations(env);
});

Deno.test("acme: firmware without the version note is refused at create, nothing left", async () => {
  await using env = await setUp([M7]);
  const bundle = env.bundle({
    annotations: m7,
    files: { "fw.elf": makeElf({ resourceTable: {} }) },
  });
  const created = await env.run(["create", "--bundle", bundle, "c1"]);
  assert.equal(created.code, 1);
  assert.match(
    created.stderr,
    /has no ACME-FW-VERSION note: build it with the ACME SDK/,
  );
  await assertClean(env);
  assertNoViolations(env);
});

Deno.test("acme: m7_safety is refused with what to do instead", async () => {
  await using env = await setUp([SAFETY]);
  const bundle = env.bundle({
    annotations: { "remoteproc.name": "m7_safety" },
    files: { "fw.elf": acmeFirmware() },
  });
  const created = await env.run(["create", "--bundle", bundle, "c1"]);
  assert.equal(created.code, 1);
  assert.match(created.stderr, /deploy to m7_0 instead/);
  await assertClean(env);
  assertNoViolations(env);
});

Deno.test("acme: a core the bootloader started is left alone: power-cycle it", async () => {
  await using env = await setUp([{ ...M7, bootState: "attached" }]);
  const bundle = env.bundle({
    annotations: m7,
    files: { "fw.elf": acmeFirmware() },
  });
  assert.equal((await env.run(["create", "--bundle", bundle, "c1"])).code, 0);
  const started = await env.run(["start", "c1"]);
  assert.equal(started.code, 1);
  assert.match(started.stderr, /power-cycle it first/);
  assert.equal(env.sim.state(0), "attached");
  assertNoViolations(env);
});

Deno.test("acme: a start that times out while the PLL locks is retried", async () => {
  await using env = await setUp([{
    ...M7,
    refuseStart: "ETIMEDOUT",
    refuseStartTimes: 1,
  }]);
  await env.deploy("c1", {
    annotations: m7,
    files: { "fw.elf": acmeFirmware() },
  });
  assert.equal(env.sim.state(0), "running");
  assertNoViolations(env);
});
