import assert from "node:assert/strict";
import { join } from "node:path";
import { setUp } from "./helpers/harness.ts";
import { makeElf } from "../fixtures/make_elf.ts";

const ACME = {
  name: "m7",
  driver: "acme-rproc",
  compatible: ["acme,a1-m7"],
  deviceName: "40000000.m7",
};

function writeProfile(sysroot: string, file: string, profile: unknown): string {
  const dir = join(sysroot, "etc/remoteproc-runtime/plugins.d");
  Deno.mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  Deno.writeTextFileSync(
    path,
    typeof profile === "string" ? profile : JSON.stringify(profile),
  );
  return path;
}

const PROFILE = {
  name: "acme-m7",
  description: "ACME A1 Cortex-M7",
  match: { drivers: ["acme-rproc"], compatibles: ["acme,*-m7"] },
  attached: "stop",
  stateAliases: { suspended: "running" },
  firmware: {
    directory: "acme",
    template: "{device}-{stem}-{rand}{ext}",
    machines: ["ARM"],
    resourceTable: "required",
  },
  start: { retries: 1, retryOn: ["ETIMEDOUT"], retryDelayMs: 10 },
};

Deno.test("profile: a vendor JSON profile places firmware, retries start and stops attached cores", async () => {
  await using env = await setUp([{
    ...ACME,
    bootState: "attached",
    refuseStart: "ETIMEDOUT",
    refuseStartTimes: 1,
  }]);
  writeProfile(env.sysroot, "acme.json", PROFILE);
  await env.deploy("c1", {
    annotations: { "remoteproc.name": "m7" },
    files: { "fw.elf": makeElf({ resourceTable: {} }) },
  });
  const stored = env.storedFirmware(join(env.sysroot, "lib/firmware/acme"));
  assert.equal(stored.length, 1);
  assert.match(stored[0]!, /^m7-fw-[0-9a-f]{8}\.elf$/);
  assert.equal(env.sim.firmware(0), `acme/${stored[0]}`);
  assert.equal(env.sim.state(0), "running");
  const features = JSON.parse((await env.run(["features"])).stdout);
  assert.equal(
    features.annotations["org.remoteproc-runtime.plugins"],
    "acme-m7,imx,stm32mp,ti-k3,generic",
  );
});

Deno.test("profile: a profile's requirements refuse a bad image at create", async () => {
  await using env = await setUp([ACME]);
  writeProfile(env.sysroot, "acme.json", PROFILE);
  const bundle = env.bundle({ annotations: { "remoteproc.name": "m7" } });
  const created = await env.run(["create", "-b", bundle, "c1"]);
  assert.equal(created.code, 1);
  assert.equal(
    created.stderr,
    "remoteproc-runtime: firmware fw.elf: has no .resource_table section: profile acme-m7 requires one\n",
  );
});

Deno.test("profile: an invalid profile fails create naming the file and field; state stays cheap", async () => {
  await using env = await setUp([{ name: "m4" }]);
  await env.deploy("c1");
  const path = writeProfile(env.sysroot, "bad.json", {
    ...PROFILE,
    match: { drivers: [42] },
  });
  const created = await env.run(["create", "-b", env.bundle(), "c2"]);
  assert.equal(created.code, 1);
  assert.match(
    created.stderr,
    new RegExp(
      `^remoteproc-runtime: plugin profile ${path}: field match\\.drivers\\.0: `,
    ),
  );
  // state and kill never read profiles
  assert.equal((await env.state("c1")).status, "running");
  assert.equal((await env.run(["kill", "c1", "TERM"])).code, 0);
  await env.until(() => env.sim.state(0) === "offline");
});

Deno.test("profile: a typo in a field name is an error, not ignored", async () => {
  await using env = await setUp([{ name: "m4" }]);
  const path = writeProfile(env.sysroot, "typo.json", {
    ...PROFILE,
    start: { retrys: 2 },
  });
  const created = await env.run(["create", "-b", env.bundle(), "c1"]);
  assert.equal(created.code, 1);
  assert.match(
    created.stderr,
    new RegExp(`plugin profile ${path}: field start: .*retrys`),
  );
});

Deno.test("profile: declaring the host's architecture lets such an image through, but never a program with an interpreter", async () => {
  const host = Deno.build.arch === "aarch64" ? 183 : 62;
  await using env = await setUp([{ name: "a53", driver: "acme-rproc" }]);
  writeProfile(env.sysroot, "acme.json", {
    name: "acme-a53",
    match: { drivers: ["acme-rproc"] },
    firmware: { machines: [host] },
  });
  const annotations = { "remoteproc.name": "a53" };
  await env.deploy("c1", {
    annotations,
    files: { "fw.elf": makeElf({ class: 64, machine: host }) },
  });
  assert.equal(env.sim.state(0), "running");

  const arm = env.bundle({ annotations, files: { "fw.elf": makeElf() } });
  const refused = await env.run(["create", "-b", arm, "c2"]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /^remoteproc-runtime: firmware fw\.elf: built for ARM, but the processor is declared as (x86-64|AArch64) by profile acme-a53 \((x86-64|AArch64)\): rebuild it for that core\n$/,
  );

  const program = makeElf({
    class: 64,
    machine: host,
    interpreter: "/lib/ld-linux-aarch64.so.1",
  });
  const bundle = env.bundle({ annotations, files: { "fw.elf": program } });
  const created = await env.run(["create", "-b", bundle, "c2"]);
  assert.equal(created.code, 1);
  assert.equal(
    created.stderr,
    "remoteproc-runtime: firmware fw.elf: is a Linux program (has program interpreter /lib/ld-linux-aarch64.so.1), not firmware\n",
  );
});
