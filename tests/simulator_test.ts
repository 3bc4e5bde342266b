import assert from "node:assert/strict";
import { join } from "node:path";
import { Simulator } from "../sim/simulator.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("the simulator takes every recovery write, though a writer truncates before it writes", async () => {
  const root = Deno.makeTempDirSync({ prefix: "rprt-sim-" });
  const sim = await Simulator.create({ root, processors: [{ name: "r5" }] });
  try {
    const path = join(sim.classDir(0), "recovery");
    const debugfs = join(
      sim.root,
      "sys/kernel/debug/remoteproc/remoteproc0/recovery",
    );
    // Like `echo disabled > recovery`: O_TRUNC then write, and the
    // simulator may see the empty file in between. Answering that empty
    // read used to race the write and undo it now and then.
    for (let i = 0; i < 40; i++) {
      const value = i % 2 === 0 ? "disabled" : "enabled";
      Deno.writeTextFileSync(path, `${value}\n`);
      await sleep(30);
      assert.equal(Deno.readTextFileSync(path).trim(), value, `write ${i}`);
      assert.equal(Deno.readTextFileSync(debugfs).trim(), value, `write ${i}`);
    }
    assert.deepEqual(sim.errors, []);
  } finally {
    await sim.close();
    Deno.removeSync(root, { recursive: true });
  }
});
