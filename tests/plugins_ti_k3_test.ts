import assert from "node:assert/strict";
import { setUp } from "./helpers/harness.ts";
import { makeElf } from "../fixtures/make_elf.ts";

const R5F = {
  name: "78400000.r5f",
  driver: "k3_r5_rproc",
  compatible: ["ti,am64-r5fss"],
  cluster: "78400000.r5fss",
  deviceName: "78400000.r5f",
};
const M4F = {
  name: "5000000.m4fss",
  driver: "k3-m4-rproc",
  compatible: ["ti,am64-m4fss"],
  deviceName: "5000000.m4fss",
};
const WITH_RSC = makeElf({ resourceTable: {} });
function bundleFor(name: string, firmware = WITH_RSC) {
  return {
    annotations: { "remoteproc.name": name },
    files: { "app.xer5f": firmware },
    config: { process: { args: ["app.xer5f"], cwd: "/" } },
  };
}

Deno.test("ti-k3: an R5F bound to its cluster is found by its driver and named TI-style", async () => {
  await using env = await setUp([R5F]);
  await env.deploy("c1", bundleFor(R5F.name));
  const state = await env.state("c1");
  assert.match(
    state.annotations["remoteproc.firmware"]!,
    /^78400000\.r5f-app-\d{8}T\d{6}Z-[0-9a-f]{8}\.xer5f$/,
  );
  assert.equal(
    state.annotations["remoteproc.firmware.resource-table"],
    "true",
  );
  assert.equal(env.sim.state(0), "running");
  const features = JSON.parse((await env.run(["features"])).stdout);
  assert.equal(
    features.annotations["org.remoteproc-runtime.plugins"],
    "imx,stm32mp,ti-k3,generic",
  );
});

Deno.test("ti-k3: firmware without a resource table is refused at create", async () => {
  await using env = await setUp([R5F]);
  const bundle = env.bundle(bundleFor(R5F.name, makeElf()));
  const created = await env.run(["create", "-b", bundle, "c1"]);
  assert.equal(created.code, 1);
  assert.match(
    created.stderr,
    /^remoteproc-runtime: firmware app\.xer5f: has no \.resource_table section: TI K3 cores need one/,
  );
  assert.deepEqual(env.containers(), []);
});

Deno.test("ti-k3: the AM62 Device Manager R5F is never touched", async () => {
  await using env = await setUp([{
    ...R5F,
    name: "78000000.r5f",
    deviceName: "78000000.r5f",
    cluster: "78000000.r5fss",
    compatible: ["ti,am62-r5fss"],
    bootState: "attached",
  }]);
  const bundle = env.bundle(bundleFor("78000000.r5f"));
  const created = await env.run(["create", "-b", bundle, "c1"]);
  assert.equal(created.code, 1);
  assert.match(created.stderr, /AM62 Device Manager R5F/);
  assert.match(created.stderr, /deploy to another core/);
  assert.deepEqual(env.sim.events, []);
});

Deno.test("ti-k3: an R5F in IPC-only mode is refused with why and what to do", async () => {
  await using env = await setUp([{
    ...R5F,
    bootState: "attached",
    refuseStopAttached: "EINVAL",
  }]);
  const bundle = env.bundle(bundleFor(R5F.name));
  const created = await env.run(["create", "-b", bundle, "c1"]);
  assert.equal(created.code, 1);
  assert.match(created.stderr, /IPC-only mode/);
  assert.match(created.stderr, /reboot/);
  assert.equal(env.sim.state(0), "attached");
  assert.deepEqual(env.sim.violations, []);
});

Deno.test("ti-k3: an attached M4F is stopped first, since its driver keeps stop", async () => {
  await using env = await setUp([{ ...M4F, bootState: "attached" }]);
  await env.deploy("c1", bundleFor(M4F.name));
  assert.deepEqual(env.sim.events, [
    "remoteproc0: attached -> offline",
    "remoteproc0: offline -> running",
  ]);
});

Deno.test("ti-k3: a stop refused with EBUSY is retried until the firmware acknowledges", async () => {
  await using env = await setUp([{
    ...R5F,
    refuseStop: "EBUSY",
    refuseStopTimes: 1,
  }]);
  await env.deploy("c1", bundleFor(R5F.name));
  assert.equal((await env.run(["kill", "c1", "TERM"])).code, 0);
  await env.until(() => env.sim.state(0) === "offline");
  assert.deepEqual(env.sim.errors, ["remoteproc0: stop: EBUSY"]);
  assert.deepEqual(env.sim.violations, []);
});

Deno.test("ti-k3: a stop that stays EBUSY fails delete with advice", async () => {
  await using env = await setUp([{ ...R5F, refuseStop: "EBUSY" }]);
  await env.deploy("c1", bundleFor(R5F.name));
  assert.equal((await env.run(["kill", "c1", "KILL"])).code, 0);
  await env.until(async () => (await env.state("c1")).status === "stopped");
  const deleted = await env.run(["delete", "c1"]);
  assert.equal(deleted.code, 1);
  assert.match(
    deleted.stderr,
    /did not stop: EBUSY after 3 attempts .*shutdown handler/,
  );
  assert.equal(env.sim.state(0), "running");
});
