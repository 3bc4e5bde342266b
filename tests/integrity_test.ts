/**
 * The `remoteproc.firmware-sha256` annotation: create and start accept only
 * the image with that digest.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { setUp } from "./helpers/harness.ts";
import { assertClean, sha256 } from "./helpers/inspect.ts";
import { makeElf } from "../fixtures/make_elf.ts";

Deno.test("firmware with the annotated digest deploys (upper case and sha256: prefix accepted)", async () => {
  await using env = await setUp();
  const digest = await sha256(makeElf());
  await env.deploy("c1", {
    annotations: {
      "remoteproc.name": "m4",
      "remoteproc.firmware-sha256": `sha256:${digest.toUpperCase()}`,
    },
  });
  assert.equal(env.sim.state(0), "running");
});

Deno.test("start refuses a rootfs image swapped after create, naming both digests, and rolls back", async () => {
  await using env = await setUp();
  const original = makeElf();
  const other = makeElf({ entry: 0x100 });
  const [expected, actual] = [await sha256(original), await sha256(other)];
  assert.notEqual(expected, actual);
  const bundle = env.bundle({
    files: { "fw.elf": original },
    annotations: {
      "remoteproc.name": "m4",
      "remoteproc.firmware-sha256": expected,
    },
  });
  assert.equal((await env.run(["create", "-b", bundle, "c1"])).code, 0);
  Deno.writeFileSync(join(bundle, "rootfs/fw.elf"), other);
  const started = await env.run(["start", "c1"]);
  assert.equal(
    started.stderr,
    `remoteproc-runtime: stored firmware does not match remoteproc.firmware-sha256: expected sha256 ${expected}, got ${actual}\n`,
  );
  assert.equal(started.code, 1);
  assert.equal(env.sim.state(0), "offline");
  assert.deepEqual(env.storedFirmware(), []);
  assert.equal((await env.state("c1")).status, "stopped");
  assert.equal((await env.run(["delete", "c1"])).code, 0);
  await assertClean(env);
  assert.deepEqual(env.sim.events, []);
});

Deno.test("features lists the integrity annotation", async () => {
  await using env = await setUp();
  const doc = JSON.parse((await env.run(["features"])).stdout);
  assert.match(
    JSON.stringify(doc),
    /remoteproc\.firmware-sha256/,
  );
});
