import assert from "node:assert/strict";
import { setUp } from "./helpers/harness.ts";

const M4 = {
  name: "m4",
  driver: "stm32-rproc",
  compatible: ["st,stm32mp1-m4"],
  deviceName: "10000000.m4",
};
const M33_TEE = {
  name: "m33",
  driver: "stm32-rproc",
  compatible: ["st,stm32mp2-m33-tee"],
  deviceName: "m33@0",
};
const SIGNED = new Uint8Array(512).fill(0x5a);
const signedBundle = {
  annotations: { "remoteproc.name": "m33" },
  files: { "OpenAMP_CM33_NonSecure_sign.bin": SIGNED },
  config: {
    process: { args: ["OpenAMP_CM33_NonSecure_sign.bin"], cwd: "/" },
  },
};

Deno.test("stm32mp: an attached core is stopped through its shutdown handshake, then ours runs and stops", async () => {
  await using env = await setUp([{
    ...M4,
    bootState: "attached",
    stopDelayMs: 300,
  }]);
  await env.deploy("c1");
  assert.equal(env.sim.state(0), "running");
  assert.deepEqual(env.sim.events, [
    "remoteproc0: attached -> offline",
    "remoteproc0: offline -> running",
  ]);
  assert.equal((await env.run(["kill", "c1", "TERM"])).code, 0);
  await env.until(() => env.sim.state(0) === "offline");
  await env.until(async () => (await env.state("c1")).status === "stopped");
  assert.deepEqual(env.sim.violations, []);
});

Deno.test("stm32mp: a TEE core refuses a plain ELF at create, naming the signing tool", async () => {
  await using env = await setUp([M33_TEE]);
  const bundle = env.bundle({ annotations: { "remoteproc.name": "m33" } });
  const created = await env.run(["create", "-b", bundle, "c1"]);
  assert.equal(created.code, 1);
  assert.match(
    created.stderr,
    /^remoteproc-runtime: firmware fw\.elf: is a plain ELF, but m33 loads firmware through OP-TEE, .*sign_rproc_fw\.py/,
  );
  assert.deepEqual(env.containers(), []);
});

Deno.test("stm32mp: a TEE core takes a signed image and keeps its .bin name", async () => {
  await using env = await setUp([M33_TEE]);
  await env.deploy("c1", signedBundle);
  const state = await env.state("c1");
  assert.equal(
    state.annotations["remoteproc.firmware.format"],
    "stm32-tee-signed",
  );
  assert.equal(state.annotations["remoteproc.firmware.machine"], undefined);
  assert.match(
    state.annotations["remoteproc.firmware"]!,
    /^OpenAMP_CM33_NonSecure_sign-\d{8}T\d{6}Z-[0-9a-f]{8}\.bin$/,
  );
  assert.equal(env.sim.state(0), "running");
});

Deno.test("stm32mp: remoteproc.stm32mp.tee=false makes a -tee core take a plain ELF", async () => {
  await using env = await setUp([M33_TEE]);
  await env.deploy("c1", {
    annotations: {
      "remoteproc.name": "m33",
      "remoteproc.stm32mp.tee": "false",
    },
  });
  const state = await env.state("c1");
  assert.equal(state.annotations["remoteproc.firmware.format"], "elf");
});

Deno.test("stm32mp: an MP2 core without mcu_rst refusing start (EPERM) gets advice", async () => {
  await using env = await setUp([{
    ...M4,
    name: "m33",
    compatible: ["st,stm32mp2-m33"],
    refuseStart: "EPERM",
  }]);
  const bundle = env.bundle({ annotations: { "remoteproc.name": "m33" } });
  assert.equal((await env.run(["create", "-b", bundle, "c1"])).code, 0);
  const started = await env.run(["start", "c1"]);
  assert.equal(started.code, 1);
  assert.match(
    started.stderr,
    /did not start: EPERM \(see the kernel log\): this core has no mcu_rst reset/,
  );
});
