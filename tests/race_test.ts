/**
 * Races between runtime invocations: creates competing for processors,
 * kill/delete/state storms on one container, start racing kill. Whatever the
 * interleaving, every invocation answers with success or one of the
 * expected one-line errors, the state is never corrupt, and the end state
 * is consistent and cleans up.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type RunResult, setUp } from "./helpers/harness.ts";
import { assertClean } from "./helpers/inspect.ts";

function winners(ids: string[], results: RunResult[]): string[] {
  return ids.filter((_, i) => results[i]!.code === 0);
}

Deno.test("10 concurrent creates for one processor: exactly one wins, the others name it", async () => {
  await using env = await setUp();
  const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
  const results = await Promise.all(
    ids.map((id) => env.run(["create", "-b", env.bundle(), id])),
  );
  const won = winners(ids, results);
  assert.equal(won.length, 1);
  for (const result of results) {
    if (result.code === 0) continue;
    assert.equal(
      result.stderr,
      `remoteproc-runtime: remoteproc0 (m4) is in use by container ${won[0]}\n`,
    );
  }
  assert.deepEqual(env.containers(), won);
  assert.deepEqual(env.claims(), ["remoteproc0"]);
});

Deno.test("concurrent creates for three processors: exactly one winner per processor", async () => {
  const names = ["m4", "dsp", "r5f"];
  await using env = await setUp(names.map((name) => ({ name })));
  const jobs = names.flatMap((name) =>
    Array.from({ length: 4 }, (_, i) => ({ name, id: `${name}-${i}` }))
  );
  const results = await Promise.all(jobs.map(({ name, id }) =>
    env.run([
      "create",
      "-b",
      env.bundle({ annotations: { "remoteproc.name": name } }),
      id,
    ])
  ));
  for (const name of names) {
    const mine = jobs.map((j, i) => ({ ...j, result: results[i]! }))
      .filter((j) => j.name === name);
    assert.equal(mine.filter((j) => j.result.code === 0).length, 1, name);
  }
  assert.deepEqual(env.claims(), [
    "remoteproc0",
    "remoteproc1",
    "remoteproc2",
  ]);
});

Deno.test("creates with different --root directories still cannot share a processor", async () => {
  await using env = await setUp();
  const roots = [0, 1, 2, 3].map((i) => join(env.sysroot, `run/engine${i}`));
  try {
    const results = await Promise.all(
      roots.map((root, i) =>
        env.run([`--root=${root}`, "create", "-b", env.bundle(), `c${i}`])
      ),
    );
    assert.equal(results.filter((r) => r.code === 0).length, 1);
    for (const result of results) {
      if (result.code !== 0) {
        assert.match(
          result.stderr,
          /^remoteproc-runtime: remoteproc0 \(m4\) is in use by container c\d\n$/,
        );
      }
    }
  } finally {
    for (const [i, root] of roots.entries()) {
      await env.run([`--root=${root}`, "delete", "--force", `c${i}`]);
    }
  }
});

/** The one-line answers a verb may give while others race it. */
const RACE_ANSWERS = new Set([
  "remoteproc-runtime: container does not exist\n",
  "remoteproc-runtime: container not running\n",
  "remoteproc-runtime: cannot delete container c1 that is not stopped: running\n",
]);

Deno.test("kill, delete and state storming one container never corrupt it", async () => {
  await using env = await setUp();
  for (let round = 0; round < 3; round++) {
    await env.deploy("c1");
    const storm = [
      ["state", "c1"],
      ["kill", "c1", "TERM"],
      ["state", "c1"],
      ["delete", "c1"],
      ["kill", "c1", "KILL"],
      ["state", "c1"],
      ["delete", "--force", "c1"],
      ["state", "c1"],
      ["kill", "--all", "c1", "INT"],
      ["delete", "--force", "c1"],
    ];
    const results = await Promise.all(storm.map((args) => env.run(args)));
    for (const [i, result] of results.entries()) {
      const what = `round ${round}: ${storm[i]!.join(" ")}`;
      if (result.code === 0) {
        if (storm[i]![0] === "state") {
          const doc = JSON.parse(result.stdout);
          assert.ok(["created", "running", "stopped"].includes(doc.status));
        }
        continue;
      }
      assert.ok(RACE_ANSWERS.has(result.stderr), `${what}: ${result.stderr}`);
    }
    // Two delete --force ran: the container is gone, and all with it.
    await assertClean(env, `after round ${round}`);
    assert.deepEqual(env.sim.violations, []);
  }
});

for (const startDelayMs of [0, 150]) {
  Deno.test(`start racing kill ends consistent (processor start delay ${startDelayMs} ms)`, async () => {
    await using env = await setUp([{ name: "m4", startDelayMs }]);
    for (let round = 0; round < 3; round++) {
      assert.equal(
        (await env.run(["create", "-b", env.bundle(), "c1"])).code,
        0,
      );
      const [started, killed] = await Promise.all([
        env.run(["start", "c1"]),
        new Promise((r) => setTimeout(r, round * 40)).then(() =>
          env.run(["kill", "c1", "TERM"])
        ),
      ]);
      const what = `round ${round}: start ${started.code} ${started.stderr}` +
        `kill ${killed.code} ${killed.stderr}`;
      // Let the proxy finish whatever the signal made it do.
      await env.until(async () =>
        (await env.state("c1")).status !== "running" ||
        env.sim.state(0) === "running"
      );
      await new Promise((r) => setTimeout(r, startDelayMs + 100));
      const status = (await env.state("c1")).status;
      if (status === "running") {
        assert.equal(env.sim.state(0), "running", what);
        assert.equal(env.storedFirmware().length, 1, what);
      } else {
        assert.equal(status, "stopped", what);
        assert.equal(env.sim.state(0), "offline", what);
        if (started.code !== 0) {
          assert.deepEqual(env.storedFirmware(), [], what);
        }
      }
      const deleted = await env.run(["delete", "--force", "c1"]);
      assert.equal(deleted.code, 0, deleted.stderr);
      await assertClean(env, what);
      assert.deepEqual(env.sim.violations, [], what);
    }
  });
}
