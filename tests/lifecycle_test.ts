import assert from "node:assert/strict";
import { join } from "node:path";
import { LAUNCHER, RUNTIME_BIN, setUp } from "./helpers/harness.ts";
import { launcherDenoWithoutFfi } from "./helpers/no_ffi.ts";

Deno.test("a container goes created -> running -> stopped -> deleted and leaves nothing behind", async () => {
  await using env = await setUp();
  const bundle = env.bundle();
  const pidFile = join(env.tmp, "pid");
  const created = await env.run([
    "create",
    "--bundle",
    bundle,
    "--pid-file",
    pidFile,
    "c1",
  ]);
  assert.equal(created.code, 0, created.stderr);
  const pidText = Deno.readTextFileSync(pidFile);
  assert.match(
    pidText,
    /^\d+$/,
    "pid file holds the bare number, no newline",
  );
  let state = await env.state("c1");
  assert.equal(state.status, "created");
  assert.equal(state.pid, Number(pidText));
  assert.equal(env.sim.state(0), "offline");

  const started = await env.run(["start", "c1"]);
  assert.equal(started.code, 0, started.stderr);
  state = await env.state("c1");
  assert.equal(state.status, "running");
  assert.equal(env.sim.state(0), "running");
  const stored = env.storedFirmware();
  assert.equal(stored.length, 1);
  assert.match(stored[0]!, /^fw-\d{8}T\d{6}Z-[0-9a-f]{8}\.elf$/);
  assert.equal(state.annotations["remoteproc.firmware"], stored[0]);
  assert.equal(env.sim.firmware(0), stored[0]);
  assert.deepEqual(env.claims(), ["remoteproc0"]);

  const killed = await env.run(["kill", "c1", "TERM"]);
  assert.equal(killed.code, 0, killed.stderr);
  await env.until(async () => (await env.state("c1")).status === "stopped");
  assert.equal(env.sim.state(0), "offline");
  assert.equal((await env.state("c1")).pid, 0);

  const deleted = await env.run(["delete", "c1"]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.deepEqual(env.containers(), []);
  assert.deepEqual(env.storedFirmware(), []);
  assert.deepEqual(env.claims(), []);
  assert.deepEqual(env.sim.violations, []);
});

Deno.test("state notices a crash: the proxy exits and the container reads stopped", async () => {
  await using env = await setUp([{ name: "m4", recovery: "disabled" }]);
  await env.deploy("c1");
  env.sim.crash(0);
  await env.until(async () => (await env.state("c1")).status === "stopped");
  assert.equal(env.sim.state(0), "crashed");
  const deleted = await env.run(["delete", "c1"]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(env.sim.state(0), "offline");
  assert.deepEqual(env.storedFirmware(), []);
  assert.deepEqual(env.sim.violations, []);
});

Deno.test("a crash the kernel recovers from leaves the container running", async () => {
  await using env = await setUp([{ name: "m4", recovery: "enabled" }]);
  await env.deploy("c1");
  env.sim.crash(0);
  await env.until(() => env.sim.state(0) === "running");
  await new Promise((r) => setTimeout(r, 150));
  assert.equal((await env.state("c1")).status, "running");
});

Deno.test("a processor stopped behind the runtime's back makes the container stopped", async () => {
  await using env = await setUp();
  await env.deploy("c1");
  env.sim.stopExternally(0);
  await env.until(async () => (await env.state("c1")).status === "stopped");
  assert.equal((await env.run(["delete", "c1"])).code, 0);
  assert.deepEqual(env.storedFirmware(), []);
});

Deno.test("kill KILL leaves the processor running; delete stops it and cleans up", async () => {
  await using env = await setUp();
  await env.deploy("c1");
  assert.equal((await env.run(["kill", "c1", "9"])).code, 0);
  await env.until(async () => (await env.state("c1")).status === "stopped");
  assert.equal(env.sim.state(0), "running", "SIGKILL only kills the proxy");
  const deleted = await env.run(["delete", "c1"]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(env.sim.state(0), "offline");
  assert.deepEqual(env.storedFirmware(), []);
  assert.deepEqual(env.claims(), []);
  assert.deepEqual(env.sim.violations, []);
});

Deno.test("delete --force of a running container stops the processor and removes everything", async () => {
  await using env = await setUp();
  await env.deploy("c1");
  const deleted = await env.run(["delete", "--force", "c1"]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(env.sim.state(0), "offline");
  assert.deepEqual(env.containers(), []);
  assert.deepEqual(env.storedFirmware(), []);
  assert.deepEqual(env.claims(), []);
});

Deno.test("deleting a created container kills its proxy and never touches the processor", async () => {
  await using env = await setUp();
  const bundle = env.bundle();
  assert.equal((await env.run(["create", "-b", bundle, "c1"])).code, 0);
  const deleted = await env.run(["delete", "c1"]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.deepEqual(env.containers(), []);
  assert.deepEqual(env.sim.events, []);
});

Deno.test("concurrent creates for one processor: exactly one wins, the others name it", async () => {
  await using env = await setUp();
  const ids = ["a", "b", "c", "d", "e", "f"];
  const results = await Promise.all(
    ids.map((id) => env.run(["create", "-b", env.bundle(), id])),
  );
  const winners = ids.filter((_, i) => results[i]!.code === 0);
  assert.equal(winners.length, 1);
  for (const [i, result] of results.entries()) {
    if (result.code === 0) continue;
    assert.equal(
      result.stderr,
      `remoteproc-runtime: remoteproc0 (m4) is in use by container ${
        winners[0]
      }\n`,
      ids[i]!,
    );
  }
  assert.deepEqual(env.containers(), winners);
});

Deno.test("firmware goes to firmware_class.path when it is set", async () => {
  await using env = await setUp();
  const custom = join(env.sysroot, "opt/firmware");
  Deno.mkdirSync(custom, { recursive: true });
  env.sim.setFirmwarePath(custom);
  await env.deploy("c1");
  assert.equal(env.storedFirmware(custom).length, 1);
  assert.deepEqual(env.storedFirmware(), []);
  assert.equal(env.sim.state(0), "running");
  assert.equal((await env.run(["delete", "-f", "c1"])).code, 0);
  assert.deepEqual(env.storedFirmware(custom), []);
});

Deno.test("start waits for a slow processor to reach running", async () => {
  await using env = await setUp([{ name: "m4", startDelayMs: 400 }]);
  await env.deploy("c1");
  assert.equal(env.sim.state(0), "running");
  assert.equal((await env.state("c1")).status, "running");
});

Deno.test("a refused start fails with what the processor reported and rolls back", async () => {
  await using env = await setUp([{ name: "m4", refuseStart: "EIO" }]);
  assert.equal((await env.run(["create", "-b", env.bundle(), "c1"])).code, 0);
  const started = await env.run(["start", "c1"]);
  assert.equal(started.code, 1);
  assert.equal(
    started.stderr,
    "remoteproc-runtime: remoteproc0 (m4) did not start: EIO (see the kernel log)\n",
  );
  assert.deepEqual(env.storedFirmware(), []);
  assert.equal((await env.state("c1")).status, "stopped");
  assert.equal((await env.run(["delete", "c1"])).code, 0);
  assert.deepEqual(env.claims(), []);
});

Deno.test("a core that reads attached is refused, never started over", async () => {
  await using env = await setUp([{ name: "m4", bootState: "attached" }]);
  assert.equal((await env.run(["create", "-b", env.bundle(), "c1"])).code, 0);
  const started = await env.run(["start", "c1"]);
  assert.equal(started.code, 1);
  assert.match(
    started.stderr,
    /remoteproc0 \(m4\) is not offline \(it reads "attached"\)/,
  );
  assert.equal(env.sim.state(0), "attached");
  assert.deepEqual(env.sim.violations, []);
});

Deno.test("kill and delete work with an empty environment, as podman calls them", async () => {
  await using env = await setUp();
  await env.deploy("c1");
  const killed = await env.run(["kill", "c1", "15"], { clearEnv: true });
  assert.equal(killed.code, 0, killed.stderr);
  await env.until(() => env.sim.state(0) === "offline");
  const deleted = await env.run(["delete", "--force", "c1"], {
    clearEnv: true,
  });
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.deepEqual(env.containers(), []);
});

Deno.test("list shows containers in a table, as JSON and as ids", async () => {
  await using env = await setUp([{ name: "m4" }, { name: "dsp" }]);
  await env.deploy("c1");
  assert.equal(
    (await env.run([
      "create",
      "-b",
      env.bundle({ annotations: { "remoteproc.name": "dsp" } }),
      "c2",
    ])).code,
    0,
  );
  const table = await env.run(["list"]);
  assert.match(table.stdout, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\n/);
  assert.match(table.stdout, /\nc1\s+\d+\s+running\s/);
  assert.match(table.stdout, /\nc2\s+\d+\s+created\s/);
  const json = JSON.parse(
    (await env.run(["list", "--format", "json"])).stdout,
  );
  assert.deepEqual(
    json.map((c: { id: string; status: string }) => [c.id, c.status]),
    [["c1", "running"], ["c2", "created"]],
  );
  assert.equal((await env.run(["list", "-q"])).stdout, "c1\nc2\n");
  const ps = await env.run(["ps", "--format", "json", "c1"]);
  assert.deepEqual(JSON.parse(ps.stdout), [(await env.state("c1")).pid]);
});

Deno.test("a recovery the proxy only sees as a brief offline is not taken for a stop", async () => {
  await using env = await setUp([{ name: "m4", recovery: "enabled" }]);
  await env.deploy("c1");
  // crashed for 1 ms (no poll sees it), then offline while the kernel
  // reloads the firmware, then running again
  env.sim.crash(0, { crashedMs: 1, reloadMs: 120 });
  await env.until(() => env.sim.state(0) === "offline");
  await env.until(() => env.sim.state(0) === "running");
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await env.state("c1")).status, "running");
});

Deno.test("with recovery enabled an external stop still ends the container", async () => {
  await using env = await setUp([{ name: "m4", recovery: "enabled" }]);
  await env.deploy("c1");
  env.sim.stopExternally(0);
  await env.until(async () => (await env.state("c1")).status === "stopped");
  assert.equal(env.sim.state(0), "offline");
});

Deno.test("list leaves out the tombstone of a removal that was killed half-way", async () => {
  await using env = await setUp();
  await env.deploy("c1");
  // what a delete killed between its rename and its removal leaves behind
  const tombstone = env.containerDir(",removed,00000000");
  Deno.mkdirSync(tombstone);
  Deno.copyFileSync(
    join(env.containerDir("c1"), "state.json"),
    join(tombstone, "state.json"),
  );
  assert.equal((await env.run(["list", "-q"])).stdout, "c1\n");
  assert.equal((await env.run(["delete", "--force", "c1"])).code, 0);
  assert.equal((await env.run(["list", "-q"])).stdout, "");
  assert.deepEqual(
    env.containers(),
    [],
    "the next removal sweeps the tombstone",
  );
});

Deno.test({
  name:
    "without FFI (a proxy on Deno's signal listeners and timers) a container still starts, notices a crash and stops on TERM",
  // The launcher's mode: a compiled binary has -A, FFI included, baked in.
  ignore: RUNTIME_BIN !== LAUNCHER,
}, async () => {
  await using env = await setUp([{ name: "m4", recovery: "disabled" }]);
  // The launcher's deno, denied FFI: create then spawns the proxy with
  // Deno.Command, so it starts with no signal blocked.
  const noFfi = { env: launcherDenoWithoutFfi(env.tmp) };
  const lifecycle = async (id: string) => {
    const created = await env.run(
      ["create", "--bundle", env.bundle(), id],
      noFfi,
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /FFI is not permitted/);
    const started = await env.run(["start", id], noFfi);
    assert.equal(started.code, 0, started.stderr);
    assert.equal(env.sim.state(0), "running");
  };

  await lifecycle("c1");
  env.sim.crash(0);
  await env.until(async () => (await env.state("c1")).status === "stopped");
  assert.equal((await env.run(["delete", "c1"], noFfi)).code, 0);
  assert.equal(env.sim.state(0), "offline");

  await lifecycle("c2");
  const killed = await env.run(["kill", "c2", "TERM"], noFfi);
  assert.equal(killed.code, 0, killed.stderr);
  await env.until(async () => (await env.state("c2")).status === "stopped");
  assert.equal(env.sim.state(0), "offline");
  assert.equal((await env.run(["delete", "c2"], noFfi)).code, 0);
  assert.deepEqual(env.containers(), []);
  assert.deepEqual(env.sim.violations, []);
});
