/**
 * Crash consistency: the runtime is SIGKILLed at every named step of
 * `create`, `start` and `delete` (core/util/test_pause_points.ts pauses it there), then
 * `state` must tell the truth and `delete --force` must return the system to
 * clean. A corrupt or truncated state file gives a clear error and
 * `delete --force` still cleans, processor included.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Env, RUNTIME_BIN, setUp } from "./helpers/harness.ts";
import { assertClean, pool, proxies } from "./helpers/inspect.ts";
import {
  PAUSE_ENV,
  PAUSE_POINTS,
  type PausePoint,
} from "../core/util/test_pause_points.ts";

/** Runs the CLI paused at `point`, waits for it to get there, SIGKILLs it. */
async function killAt(env: Env, point: PausePoint, args: string[]) {
  const err = join(env.tmp, `paused-${point}`);
  const child = new Deno.Command("/bin/sh", {
    args: [
      "-c",
      'err=$1; shift; exec "$@" >/dev/null 2>"$err"',
      "sh",
      err,
      RUNTIME_BIN,
      ...args,
    ],
    env: { REMOTEPROC_RUNTIME_SYSROOT: env.sysroot, [PAUSE_ENV]: point },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const marker = `remoteproc-runtime: test: paused at ${point}\n`;
  let exited = false;
  child.status.then(() => exited = true);
  await env.until(() => {
    if (exited) {
      throw new Error(`exited before ${point}: ${Deno.readTextFileSync(err)}`);
    }
    try {
      return Deno.readTextFileSync(err) === marker;
    } catch {
      return false;
    }
  }, 15_000);
  child.kill("SIGKILL");
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL");
}

/** What `state` must say after the kill at each point. */
const EXPECTED: Record<PausePoint, string> = {
  "create.dir": "container does not exist",
  "create.record": "stopped",
  "create.claimed": "stopped",
  "create.spawned": "stopped",
  "create.recorded": "created",
  "start.intent": "created",
  "start.stored": "created",
  "start.firmware-written": "created",
  "start.signalled": "running",
  "start.running": "running",
  "delete.killed": "stopped",
  "delete.stopped": "stopped",
  "delete.firmware-removed": "stopped",
  "delete.released": "stopped",
};

async function crashAt(point: PausePoint): Promise<void> {
  await using env = await setUp();
  const bundle = env.bundle();
  const verb = point.split(".")[0];
  if (verb === "create") {
    await killAt(env, point, ["create", "-b", bundle, "c1"]);
  } else {
    const created = await env.run(["create", "-b", bundle, "c1"]);
    assert.equal(created.code, 0, created.stderr);
    if (verb === "start") await killAt(env, point, ["start", "c1"]);
    else {
      assert.equal((await env.run(["start", "c1"])).code, 0);
      await killAt(env, point, ["delete", "--force", "c1"]);
    }
  }
  const expected = EXPECTED[point];
  if (expected === "running") {
    // The proxy goes on starting the processor on its own.
    await env.until(() => env.sim.state(0) === "running");
  }
  const state = await env.run(["state", "c1"]);
  if (expected === "container does not exist") {
    assert.equal(state.stderr, `remoteproc-runtime: ${expected}\n`, point);
  } else {
    assert.equal(state.code, 0, `${point}: ${state.stderr}`);
    const doc = JSON.parse(state.stdout);
    assert.equal(doc.status, expected, point);
    // The truth about the processor: running only while the state says so
    // (or after the proxy was killed, which delete then deals with).
    if (expected !== "stopped" || verb !== "delete") {
      assert.equal(
        env.sim.state(0),
        expected === "running" ? "running" : "offline",
        point,
      );
    }
    if (expected === "stopped") assert.equal(doc.pid, 0, point);
    else assert.deepEqual(proxies(env), [doc.pid], point);
  }
  const deleted = await env.run(["delete", "--force", "c1"]);
  assert.equal(deleted.code, 0, `${point}: ${deleted.stderr}`);
  assert.equal(deleted.stderr, "", point);
  await assertClean(env, `after a kill at ${point}`);
  assert.deepEqual(env.sim.violations, [], point);
}

Deno.test("a runtime SIGKILLed at any step of create, start or delete: state tells the truth and delete --force cleans everything", async (t) => {
  const failures = await pool(PAUSE_POINTS, 3, async (point) => {
    try {
      await crashAt(point);
      return undefined;
    } catch (error) {
      return error;
    }
  });
  for (const [i, point] of PAUSE_POINTS.entries()) {
    await t.step(point, () => {
      if (failures[i] !== undefined) throw failures[i];
    });
  }
});

/** Deploys c1 and replaces its state.json with `text`. */
async function corruptState(env: Env, text: string): Promise<void> {
  await env.deploy("c1");
  Deno.writeTextFileSync(join(env.containerDir("c1"), "state.json"), text);
}

for (
  const [what, text, message] of [
    [
      "truncated",
      '{\n  "version": 1,\n  "ociVersion": "1.0.2",\n  "id": "c',
      "state of container c1 is corrupt: not valid JSON (delete --force cleans up)",
    ],
    [
      "empty",
      "",
      "state of container c1 is corrupt: not valid JSON (delete --force cleans up)",
    ],
    [
      "wrongly typed",
      '{"version":1,"ociVersion":"1.0.2","id":"c1","status":"exploded"}',
      'state of container c1 is corrupt: field status: Invalid option: expected one of "creating"|"created"|"running"|"stopped" (delete --force cleans up)',
    ],
  ] as const
) {
  Deno.test(`a ${what} state file gives a clear error; delete --force still stops the processor and cleans`, async () => {
    await using env = await setUp();
    await corruptState(env, text);
    for (const args of [["state", "c1"], ["kill", "c1"], ["delete", "c1"]]) {
      const result = await env.run(args);
      assert.equal(result.stderr, `remoteproc-runtime: ${message}\n`);
      assert.equal(result.code, 1);
    }
    assert.equal(env.sim.state(0), "running");
    const deleted = await env.run(["delete", "--force", "c1"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    await assertClean(env, `after a ${what} state file`);
    assert.deepEqual(env.sim.violations, []);
  });
}

Deno.test("a lost state file: the container does not exist, and delete --force still cleans up after it", async () => {
  await using env = await setUp();
  await env.deploy("c1");
  Deno.removeSync(join(env.containerDir("c1"), "state.json"));
  const state = await env.run(["state", "c1"]);
  assert.equal(
    state.stderr,
    "remoteproc-runtime: container does not exist\n",
  );
  const deleted = await env.run(["delete", "--force", "c1"]);
  assert.equal(deleted.code, 0, deleted.stderr);
  await assertClean(env, "after a lost state file");
});

Deno.test("a start killed after its copy and run again leaves no copy behind: delete --force then removes the one stored file", async () => {
  await using env = await setUp();
  assert.equal((await env.run(["create", "-b", env.bundle(), "c1"])).code, 0);
  await killAt(env, "start.stored", ["start", "c1"]);
  const [first] = env.storedFirmware();
  assert.ok(first, "the killed start stored a copy");
  const started = await env.run(["start", "c1"]);
  assert.equal(started.code, 0, started.stderr);
  assert.equal(env.sim.state(0), "running");
  const stored = env.storedFirmware();
  assert.equal(stored.length, 1, `one copy, not ${stored.join(", ")}`);
  assert.notEqual(stored[0], first);
  assert.equal(env.sim.firmware(0), stored[0]);
  const deleted = await env.run(["delete", "--force", "c1"]);
  assert.equal(deleted.code, 0, deleted.stderr);
  await assertClean(env, "after a retried start");
});
