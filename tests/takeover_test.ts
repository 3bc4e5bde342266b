/**
 * A stopped container does not block its processor: the kubelet's next
 * attempt (a new container) takes it over while the old one is kept for
 * `kubectl logs --previous`, and deleting the old one afterwards touches
 * neither the processor nor the new container's firmware.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Env, setUp } from "./helpers/harness.ts";
import { assertClean } from "./helpers/inspect.ts";

/** The stored firmware name a container's state reports. */
async function firmwareOf(env: Env, id: string): Promise<string> {
  const name = (await env.state(id)).annotations["remoteproc.firmware"];
  assert.ok(name, `${id} has stored firmware`);
  return name;
}

function loaded(env: Env): string {
  return Deno.readTextFileSync(
    join(env.sysroot, "sys/class/remoteproc/remoteproc0/firmware"),
  ).trim();
}

Deno.test("after a crash the next container takes the processor over while the old one is kept; deleting the old one disturbs nothing", async () => {
  await using env = await setUp([{ name: "m4", recovery: "disabled" }]);
  await env.deploy("attempt0");
  const old = await firmwareOf(env, "attempt0");
  env.sim.crash(0);
  await env.until(async () =>
    (await env.state("attempt0")).status === "stopped"
  );
  assert.equal(env.sim.state(0), "crashed");

  // The crashed core is stopped and loaded with the new firmware.
  await env.deploy("attempt1");
  const fresh = await firmwareOf(env, "attempt1");
  assert.notEqual(fresh, old);
  assert.equal(env.sim.state(0), "running");
  assert.equal(loaded(env), fresh);
  assert.deepEqual(env.storedFirmware(), [old, fresh].sort());
  assert.equal((await env.state("attempt0")).status, "stopped");

  const deleted = await env.run(["delete", "attempt0"]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(env.sim.state(0), "running");
  assert.equal(loaded(env), fresh);
  assert.deepEqual(env.storedFirmware(), [fresh]);
  assert.equal((await env.state("attempt1")).status, "running");
  assert.equal(env.claims().length, 1);

  assert.equal((await env.run(["kill", "attempt1", "TERM"])).code, 0);
  await env.until(async () =>
    (await env.state("attempt1")).status === "stopped"
  );
  assert.equal((await env.run(["delete", "attempt1"])).code, 0);
  await assertClean(env);
  assert.deepEqual(env.sim.violations, []);
});

Deno.test("deleting the stopped container between the next one's create and start leaves the processor to it", async () => {
  await using env = await setUp([{ name: "m4", recovery: "disabled" }]);
  await env.deploy("attempt0");
  env.sim.crash(0);
  await env.until(async () =>
    (await env.state("attempt0")).status === "stopped"
  );
  const created = await env.run(["create", "-b", env.bundle(), "attempt1"]);
  assert.equal(created.code, 0, created.stderr);

  assert.equal((await env.run(["delete", "attempt0"])).code, 0);
  assert.equal(env.sim.state(0), "crashed", "untouched by the old delete");
  assert.equal(env.claims().length, 1);

  const started = await env.run(["start", "attempt1"]);
  assert.equal(started.code, 0, started.stderr);
  assert.equal(env.sim.state(0), "running");
  assert.equal(loaded(env), await firmwareOf(env, "attempt1"));
  assert.equal((await env.run(["delete", "--force", "attempt1"])).code, 0);
  await assertClean(env);
  assert.deepEqual(env.sim.violations, []);
});

Deno.test("a container whose proxy was SIGKILLed does not block its processor either", async () => {
  await using env = await setUp();
  await env.deploy("c1");
  const old = await firmwareOf(env, "c1");
  assert.equal((await env.run(["kill", "c1", "KILL"])).code, 0);
  await env.until(async () => (await env.state("c1")).status === "stopped");
  assert.equal(env.sim.state(0), "running", "still running c1's firmware");

  await env.deploy("c2");
  const fresh = await firmwareOf(env, "c2");
  assert.equal(loaded(env), fresh);
  assert.equal((await env.run(["delete", "c1"])).code, 0);
  assert.equal(env.sim.state(0), "running");
  assert.equal(loaded(env), fresh);
  assert.deepEqual(env.storedFirmware(), [fresh]);
  assert.notEqual(old, fresh);
  assert.equal((await env.run(["delete", "--force", "c2"])).code, 0);
  await assertClean(env);
});

Deno.test("a stopped container under another --root (another engine) is taken over too, and a live one is not", async () => {
  await using env = await setUp();
  const [podman, docker] = ["podman", "docker"].map((e) =>
    `--root=${join(env.sysroot, `run/${e}`)}`
  );
  try {
    const run = async (root: string, ...args: string[]) => {
      const result = await env.run([root, ...args]);
      assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    };
    await run(podman!, "create", "-b", env.bundle(), "c1");
    await run(podman!, "start", "c1");
    const refused = await env.run([
      docker!,
      "create",
      "-b",
      env.bundle(),
      "c2",
    ]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /remoteproc0 \(m4\) is in use by container c1/,
    );

    await run(podman!, "kill", "c1", "KILL");
    await env.until(async () => {
      const state = await env.run([podman!, "state", "c1"]);
      return JSON.parse(state.stdout).status === "stopped";
    });
    await run(docker!, "create", "-b", env.bundle(), "c2");
    await run(docker!, "start", "c2");
    assert.equal(env.sim.state(0), "running");
    await run(podman!, "delete", "c1");
    assert.equal(env.sim.state(0), "running");
    assert.equal(env.storedFirmware().length, 1);
    await run(docker!, "delete", "--force", "c2");
    assert.equal(env.sim.state(0), "offline");
    assert.deepEqual(env.storedFirmware(), []);
    assert.deepEqual(env.claims(), []);
  } finally {
    await env.run([podman!, "delete", "--force", "c1"]);
    await env.run([docker!, "delete", "--force", "c2"]);
  }
});

Deno.test("a created or running container still holds its processor", async () => {
  await using env = await setUp();
  const created = await env.run(["create", "-b", env.bundle(), "c1"]);
  assert.equal(created.code, 0, created.stderr);
  const refused = await env.run(["create", "-b", env.bundle(), "c2"]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /remoteproc0 \(m4\) is in use by container c1/,
  );
  assert.equal((await env.run(["start", "c1"])).code, 0);
  const again = await env.run(["create", "-b", env.bundle(), "c3"]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /is in use by container c1/);
  assert.equal(env.sim.state(0), "running");
  assert.equal((await env.run(["delete", "--force", "c1"])).code, 0);
  await assertClean(env);
});
