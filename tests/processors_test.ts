import assert from "node:assert/strict";
import { join } from "node:path";
import { setUp } from "./helpers/harness.ts";
import { WRITE_PROBE_ENV } from "../core/os/confinement.ts";

Deno.test("processors lists each processor with its index, name, state, plugin and holder", async () => {
  await using env = await setUp([
    { name: "m4", driver: "imx-rproc", compatible: ["fsl,imx8mp-cm7"] },
    { name: "dsp" },
    { name: "r5", bootState: "attached" },
  ]);
  await env.deploy("fw1");
  const json = await env.run(["processors", "--format", "json"]);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), [
    {
      index: "remoteproc0",
      name: "m4",
      state: "running",
      plugin: "imx",
      container: "fw1",
    },
    {
      index: "remoteproc1",
      name: "dsp",
      state: "offline",
      plugin: "generic",
      container: null,
    },
    {
      index: "remoteproc2",
      name: "r5",
      state: "attached",
      plugin: "generic",
      container: null,
    },
  ]);
  const table = await env.run(["processors"]);
  assert.equal(table.code, 0, table.stderr);
  assert.deepEqual(
    table.stdout.trimEnd().split("\n").map((l) => l.split(/\s+/)),
    [
      ["INDEX", "NAME", "STATE", "PLUGIN", "CONTAINER"],
      ["remoteproc0", "m4", "running", "imx", "fw1"],
      ["remoteproc1", "dsp", "offline", "generic", "-"],
      ["remoteproc2", "r5", "attached", "generic", "-"],
    ],
  );
  assert.equal(table.stderr, "");
});

Deno.test("processors names no holder once the container is deleted, nor for a stale claim", async () => {
  await using env = await setUp([{ name: "m4" }, { name: "dsp" }]);
  await env.deploy("fw1");
  assert.equal((await env.run(["delete", "--force", "fw1"])).code, 0);
  // A claim whose holder's state directory is gone (a crashed host).
  Deno.writeTextFileSync(
    join(env.sysroot, "run/remoteproc-runtime/claims/remoteproc1"),
    JSON.stringify({ id: "ghost", dir: join(env.root, "ghost") }),
  );
  const result = await env.run(["processors", "--format=json"]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    JSON.parse(result.stdout).map((
      p: { state: string; container: string | null },
    ) => [p.state, p.container]),
    [["offline", null], ["offline", null]],
  );
});

Deno.test("processors shows the plugin a vendor profile matches", async () => {
  await using env = await setUp([{ name: "m4", driver: "acme-rproc" }]);
  const dir = join(env.sysroot, "etc/remoteproc-runtime/plugins.d");
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(
    join(dir, "acme.json"),
    JSON.stringify({ name: "acme", match: { drivers: ["acme-rproc"] } }),
  );
  const result = await env.run(["processors", "-f", "json"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout)[0].plugin, "acme");
});

Deno.test("processors refuses bad input with one line and exit 1", async () => {
  await using env = await setUp();
  const cases: [string[], RegExp][] = [
    [["processors", "--format", "yaml"], /invalid format option "yaml"/],
    [["processors", "m4"], /unexpected argument "m4"/],
    [["processors", "--all"], /--all/],
    [["processors", "--format"], /needs a value/],
  ];
  for (const [args, message] of cases) {
    const result = await env.run(args);
    assert.equal(result.code, 1, args.join(" "));
    assert.equal(result.stdout, "");
    const lines = result.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, /^remoteproc-runtime: processors: /);
    assert.match(lines[0]!, message);
  }
});

Deno.test("processors without /sys/class/remoteproc says so in one line", async () => {
  await using env = await setUp();
  const bare = Deno.makeTempDirSync({ prefix: "rprt-bare-" });
  try {
    for (const format of ["table", "json"]) {
      const result = await env.run(["processors", "--format", format], {
        env: { REMOTEPROC_RUNTIME_SYSROOT: bare },
      });
      assert.equal(result.code, 1);
      assert.equal(result.stdout, "");
      assert.equal(
        result.stderr,
        `remoteproc-runtime: ${bare}/sys/class/remoteproc does not exist: the kernel has no remoteproc support (CONFIG_REMOTEPROC) or its module is not loaded\n`,
      );
    }
    assert.deepEqual([...Deno.readDirSync(bare)], [], "nothing made");
  } finally {
    Deno.removeSync(bare, { recursive: true });
  }
});

Deno.test("processors runs confined: it can write nothing, even in the sysroot", async () => {
  await using env = await setUp([{ name: "m4" }]);
  await env.deploy("fw1");
  const paths = [
    join(env.root, "probe"),
    join(env.sysroot, "run/remoteproc-runtime/claims/probe"),
    join(env.sysroot, "sys/class/remoteproc/remoteproc0/probe"),
    join(env.sysroot, "etc-probe"),
  ];
  const result = await env.run(["processors"], {
    env: { [WRITE_PROBE_ENV]: paths.join(":") },
  });
  assert.equal(result.code, 0, result.stderr);
  for (const path of paths) {
    assert.match(
      result.stderr,
      new RegExp(`write ${path}: EACCES`),
      result.stderr,
    );
  }
  assert.match(result.stdout, /remoteproc0\s+m4\s+running\s+generic\s+fw1/);
});
