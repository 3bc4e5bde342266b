/**
 * The state root's layout: container ids name containers and nothing else,
 * state left by the old layout is still found, and a state root that is not
 * a usable directory is reported in one line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { setUp } from "./helpers/harness.ts";
import { assertClean } from "./helpers/inspect.ts";
import { bindReadOnly, unmount } from "./helpers/mounts.ts";

for (const id of ["claims", "containers"]) {
  Deno.test(`the id ${id} names a container like any other: deleting it leaves every other claim in place`, async () => {
    await using env = await setUp([{ name: "m4" }, { name: "dsp" }]);
    await env.deploy("c1");
    const bundle = env.bundle({ annotations: { "remoteproc.name": "dsp" } });
    const created = await env.run(["create", "-b", bundle, id]);
    assert.equal(created.stderr, "");
    assert.equal(created.code, 0);
    assert.equal((await env.state(id)).status, "created");
    assert.deepEqual(env.claims(), ["remoteproc0", "remoteproc1"]);
    assert.equal(
      (await env.run(["list", "-q"])).stdout,
      `c1\n${id}\n`,
    );

    const deleted = await env.run(["delete", "--force", id]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(env.claims(), ["remoteproc0"], "c1 keeps its claim");
    const second = await env.run(["create", "-b", env.bundle(), "c2"]);
    assert.equal(
      second.stderr,
      "remoteproc-runtime: remoteproc0 (m4) is in use by container c1\n",
    );
    assert.equal(second.code, 1);
    assert.equal((await env.state("c1")).status, "running");
  });
}

Deno.test("delete --force of an unknown id the engine retried after a refused create: it was never made, nothing is removed", async () => {
  await using env = await setUp([{ name: "m4" }, { name: "dsp" }]);
  await env.deploy("c1");
  // The engine's cleanup after any failed create, with the worst ids.
  for (const id of ["claims", "containers", "x".repeat(256)]) {
    const deleted = await env.run(["delete", "--force", id]);
    assert.equal(deleted.stderr, "", id);
    assert.equal(deleted.code, 0, id);
  }
  assert.deepEqual(env.claims(), ["remoteproc0"]);
  assert.equal((await env.state("c1")).status, "running");
});

Deno.test("delete --force by an id that names some other directory of a shared --root removes nothing", async () => {
  await using env = await setUp();
  // An engine's --root that also holds other things (or --root /run).
  const root = join(env.tmp, "shared");
  Deno.mkdirSync(join(root, "data"), { recursive: true });
  Deno.writeTextFileSync(join(root, "data", "keep"), "precious");
  const deleted = await env.run(["--root", root, "delete", "-f", "data"]);
  assert.equal(deleted.stderr, "");
  assert.equal(deleted.code, 0);
  assert.equal(Deno.readTextFileSync(join(root, "data", "keep")), "precious");
  assert.deepEqual(
    [...Deno.readDirSync(join(root, "data"))].map((e) => e.name),
    ["keep"],
    "not even an op.lock was made in it",
  );
});

Deno.test("an id of 255 characters, the longest a file name allows, lives a whole lifecycle", async () => {
  await using env = await setUp();
  const id = "i".repeat(255);
  await env.deploy(id);
  assert.equal((await env.state(id)).status, "running");
  const deleted = await env.run(["delete", "--force", id]);
  assert.equal(deleted.stderr, "");
  assert.equal(deleted.code, 0);
  await assertClean(env, "after a 255-character id");
});

Deno.test("a container left by the old layout (<root>/<id>) is still listed, found, refused as a duplicate and deleted", async () => {
  await using env = await setUp();
  await env.deploy("old");
  // What the earlier layout left: the directory right under the state
  // root, and a claim naming that directory.
  const legacy = join(env.root, "old");
  Deno.renameSync(env.containerDir("old"), legacy);
  const claimFile = join(env.root, "claims", "remoteproc0");
  const claim = JSON.parse(Deno.readTextFileSync(claimFile));
  Deno.writeTextFileSync(
    claimFile,
    JSON.stringify({ ...claim, dir: legacy }),
  );

  assert.equal((await env.run(["list", "-q"])).stdout, "old\n");
  assert.equal((await env.state("old")).status, "running");
  const again = await env.run(["create", "-b", env.bundle(), "old"]);
  assert.equal(
    again.stderr,
    "remoteproc-runtime: container with given ID already exists\n",
  );
  const other = await env.run(["create", "-b", env.bundle(), "new"]);
  assert.equal(
    other.stderr,
    "remoteproc-runtime: remoteproc0 (m4) is in use by container old\n",
  );
  const deleted = await env.run(["delete", "--force", "old"]);
  assert.equal(deleted.code, 0, deleted.stderr);
  await assertClean(env, "after deleting an old-layout container");
});

Deno.test("a read-only state root holding a live container: the verbs that write say which file and why in one line; state still answers", async () => {
  await using env = await setUp();
  // The default state root, seen read-only through a bind mount.
  const readOnly = join(env.tmp, "read-only-root");
  try {
    const created = await env.run(["create", "-b", env.bundle(), "c1"]);
    assert.equal(created.code, 0, created.stderr);
    bindReadOnly(env.root, readOnly);
    const at = ["--root", readOnly];
    const lock = join(readOnly, "containers/c1/op.lock");
    for (
      const args of [["start", "c1"], ["kill", "c1"], ["delete", "-f", "c1"]]
    ) {
      const result = await env.run([...at, ...args]);
      assert.equal(
        result.stderr,
        `remoteproc-runtime: cannot open ${lock}: read-only file system\n`,
        args.join(" "),
      );
      assert.equal(result.code, 1);
    }
    const state = await env.run([...at, "state", "c1"]);
    assert.equal(JSON.parse(state.stdout).status, "created", state.stderr);
    const another = await env.run([...at, "create", "-b", env.bundle(), "c2"]);
    assert.equal(
      another.stderr,
      `remoteproc-runtime: cannot create directory ${readOnly}/containers/c2: read-only file system\n`,
    );
    assert.equal(env.sim.state(0), "offline");

    const deleted = await env.run(["delete", "-f", "c1"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    await assertClean(env, "once deleted through the writable root");
  } finally {
    unmount(readOnly);
  }
});
