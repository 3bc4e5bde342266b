import assert from "node:assert/strict";
import { join } from "node:path";
import { setUp } from "./helpers/harness.ts";
import { makeElf } from "../fixtures/make_elf.ts";

const M4 = {
  name: "imx-rproc",
  driver: "imx-rproc",
  compatible: ["fsl,imx8mm-cm4"],
  deviceName: "imx8mm-cm4",
};
const DSP = {
  name: "imx-dsp-rproc",
  driver: "imx-dsp-rproc",
  compatible: ["fsl,imx8mp-hifi4"],
  deviceName: "3b6e8000.dsp",
};
const XTENSA = 94;
const dspBundle = {
  annotations: { "remoteproc.name": "imx-dsp-rproc" },
  files: { "hifi4.elf": makeElf({ machine: XTENSA }) },
  config: { process: { args: ["hifi4.elf"], cwd: "/" } },
};

Deno.test("imx: a core the bootloader started is stopped, then our firmware runs", async () => {
  await using env = await setUp([{ ...M4, bootState: "attached" }]);
  await env.deploy("c1", { annotations: { "remoteproc.name": "imx-rproc" } });
  assert.equal(env.sim.state(0), "running");
  assert.deepEqual(env.sim.events, [
    "remoteproc0: attached -> offline",
    "remoteproc0: offline -> running",
  ]);
  const state = await env.state("c1");
  assert.equal(env.sim.firmware(0), state.annotations["remoteproc.firmware"]);
  assert.equal(state.annotations["remoteproc.firmware.machine"], "ARM");
  assert.equal(state.annotations["remoteproc.firmware.format"], "elf");
  assert.deepEqual(env.sim.violations, []);
});

Deno.test("imx: remoteproc.attached=refuse leaves a bootloader-started core alone", async () => {
  await using env = await setUp([{ ...M4, bootState: "attached" }]);
  const bundle = env.bundle({
    annotations: {
      "remoteproc.name": "imx-rproc",
      "remoteproc.attached": "refuse",
    },
  });
  assert.equal((await env.run(["create", "-b", bundle, "c1"])).code, 0);
  const started = await env.run(["start", "c1"]);
  assert.equal(started.code, 1);
  assert.match(started.stderr, /remoteproc.attached is "refuse"/);
  assert.equal(env.sim.state(0), "attached");
  assert.deepEqual(env.sim.violations, []);
});

Deno.test("imx: an attached core whose control method refuses stop fails with why", async () => {
  await using env = await setUp([{
    ...M4,
    compatible: ["fsl,imx8qm-cm4"],
    bootState: "attached",
    refuseStopAttached: "EOPNOTSUPP",
  }]);
  const bundle = env.bundle({
    annotations: { "remoteproc.name": "imx-rproc" },
  });
  assert.equal((await env.run(["create", "-b", bundle, "c1"])).code, 0);
  const started = await env.run(["start", "c1"]);
  assert.equal(started.code, 1);
  assert.match(
    started.stderr,
    /remoteproc0 \(imx-rproc\) runs firmware the bootloader started \(attached\) and refused to stop \(EOPNOTSUPP\): /,
  );
  assert.equal(env.sim.state(0), "attached");
  assert.deepEqual(env.storedFirmware(), []);
  assert.deepEqual(env.sim.violations, []);
});

Deno.test("imx: an i.MX8ULP core started by the bootloader is refused at create", async () => {
  await using env = await setUp([{
    ...M4,
    compatible: ["fsl,imx8ulp-cm33"],
    bootState: "attached",
    refuseStopAttached: "EOPNOTSUPP",
  }]);
  const bundle = env.bundle({
    annotations: { "remoteproc.name": "imx-rproc" },
  });
  const created = await env.run(["create", "-b", bundle, "c1"]);
  assert.equal(created.code, 1);
  assert.match(created.stderr, /i\.MX7ULP\/8ULP .*cannot stop/);
  assert.match(created.stderr, /build the firmware into the boot image/);
  assert.deepEqual(env.containers(), []);
  assert.deepEqual(env.sim.events, []);
});

Deno.test("imx: DSP firmware goes to imx/dsp/ and a start that times out is retried", async () => {
  await using env = await setUp([{
    ...DSP,
    refuseStart: "ETIMEDOUT",
    refuseStartTimes: 2,
  }]);
  await env.deploy("c1", dspBundle);
  assert.equal(env.sim.state(0), "running");
  const stored = env.storedFirmware(
    join(env.sysroot, "lib/firmware/imx/dsp"),
  );
  assert.equal(stored.length, 1);
  assert.equal(env.sim.firmware(0), `imx/dsp/${stored[0]}`);
  assert.equal(
    env.sim.errors.filter((e) => e.includes("ETIMEDOUT")).length,
    2,
  );
  assert.deepEqual(env.sim.violations, []);
});

Deno.test("imx: a DSP that never rings its doorbell fails after the retries, with advice", async () => {
  await using env = await setUp([{ ...DSP, refuseStart: "ETIMEDOUT" }]);
  const bundle = env.bundle(dspBundle);
  assert.equal((await env.run(["create", "-b", bundle, "c1"])).code, 0);
  const started = await env.run(["start", "c1"]);
  assert.equal(started.code, 1);
  assert.match(
    started.stderr,
    /did not start: ETIMEDOUT after 3 attempts .*ready doorbell/,
  );
  assert.equal(env.sim.state(0), "offline");
  assert.deepEqual(
    env.storedFirmware(join(env.sysroot, "lib/firmware/imx/dsp")),
    [],
  );
});

Deno.test("imx: an ARM image for the HiFi4 DSP is refused at create", async () => {
  await using env = await setUp([DSP]);
  const bundle = env.bundle({
    ...dspBundle,
    files: { "hifi4.elf": makeElf() },
  });
  const created = await env.run(["create", "-b", bundle, "c1"]);
  assert.equal(created.code, 1);
  assert.equal(
    created.stderr,
    "remoteproc-runtime: firmware hifi4.elf: built for ARM, but the processor is a HiFi4 DSP (Xtensa): rebuild it for that core\n",
  );
});
