import assert from "node:assert/strict";
import { join } from "node:path";
import { type Env, setUp } from "./helpers/harness.ts";
import { assertClean } from "./helpers/inspect.ts";
import { makeElf } from "../fixtures/make_elf.ts";

async function expectError(
  env: Env,
  args: string[],
  message: string,
): Promise<void> {
  const result = await env.run(args);
  assert.equal(result.code, 1, `exit code of ${args.join(" ")}`);
  assert.equal(result.stderr, `remoteproc-runtime: ${message}\n`);
  assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
}

Deno.test("unknown container ids get runc's 'container does not exist'; delete --force exits 0", async () => {
  await using env = await setUp();
  for (const verb of ["start", "state", "kill", "delete", "ps"]) {
    await expectError(env, [verb, "nope"], "container does not exist");
  }
  assert.equal((await env.run(["delete", "--force", "nope"])).code, 0);
  assert.equal((await env.run(["kill", "--all", "nope", "9"])).code, 1);
});

Deno.test("create with a taken id fails with runc's message and leaves the first container alone", async () => {
  await using env = await setUp([{ name: "m4" }, { name: "dsp" }]);
  assert.equal((await env.run(["create", "-b", env.bundle(), "c1"])).code, 0);
  const other = env.bundle({ annotations: { "remoteproc.name": "dsp" } });
  await expectError(
    env,
    ["create", "-b", other, "c1"],
    "container with given ID already exists",
  );
  assert.equal((await env.state("c1")).status, "created");
  assert.deepEqual(env.claims(), ["remoteproc0"]);
});

Deno.test("a missing remoteproc.name annotation lists the processors that exist", async () => {
  await using env = await setUp([{ name: "m4" }, { name: "dsp" }]);
  await expectError(
    env,
    ["create", "-b", env.bundle({ annotations: {} }), "c1"],
    "annotation remoteproc.name is required (or REMOTEPROC_NAME in process.env): it names the processor to deploy to (looked at annotation remoteproc.name and REMOTEPROC_NAME in process.env; available: m4 (remoteproc0), dsp (remoteproc1))",
  );
  await expectError(
    env,
    [
      "create",
      "-b",
      env.bundle({ annotations: { "remoteproc.name": "r5f" } }),
      "c1",
    ],
    'no remote processor named "r5f" (available: m4 (remoteproc0), dsp (remoteproc1))',
  );
  await assertClean(env, "", 2);
});

Deno.test("a processor can be named as remoteprocN when names are shared", async () => {
  await using env = await setUp([{ name: "imx-rproc" }, { name: "imx-rproc" }]);
  await expectError(
    env,
    [
      "create",
      "-b",
      env.bundle({ annotations: { "remoteproc.name": "imx-rproc" } }),
      "c1",
    ],
    'several processors are named "imx-rproc" (remoteproc0, remoteproc1): set remoteproc.name to one of those',
  );
  await env.deploy("c1", {
    annotations: { "remoteproc.name": "remoteproc1" },
  });
  assert.equal(env.sim.state(1), "running");
  assert.equal(env.sim.state(0), "offline");
});

Deno.test("bad config.json is refused at create with the field named, leaving nothing", async () => {
  await using env = await setUp();
  const cases: Array<[Record<string, unknown> | string, string]> = [
    [
      "{not json",
      "cannot parse config.json: Expected property name or '}' in JSON at position 1 (line 1 column 2)",
    ],
    [
      { ociVersion: "2.0.0" },
      'cannot parse config.json: ociVersion: unsupported ociVersion "2.0.0": this runtime implements OCI runtime spec 1.x',
    ],
    [
      { process: { args: ["a.elf", "b.elf"] } },
      "cannot parse config.json: process.args: must have exactly 1 element, the firmware file, not 2",
    ],
    [
      { process: { args: [] } },
      "cannot parse config.json: process.args: must have exactly 1 element, the firmware file, not 0",
    ],
    [
      { process: { args: ["fw.elf"], terminal: true } },
      "a remote processor has no terminal: process.terminal must be false (run without -t)",
    ],
    [
      { root: { path: 7 } },
      "cannot parse config.json: root.path: Invalid input: expected string, received number",
    ],
  ];
  for (const [config, message] of cases) {
    await expectError(
      env,
      ["create", "-b", env.bundle({ config }), "c1"],
      message,
    );
  }
  await assertClean(env);
});

Deno.test("-t (--console-socket) fails at once: a processor has no terminal", async () => {
  await using env = await setUp();
  await expectError(
    env,
    [
      "create",
      "-b",
      env.bundle(),
      "--console-socket",
      join(env.tmp, "pty.sock"),
      "c1",
    ],
    "a remote processor has no terminal: --console-socket is not supported (run without -t)",
  );
  await assertClean(env);
});

Deno.test("start refuses running and stopped containers with runc's messages", async () => {
  await using env = await setUp();
  await env.deploy("c1");
  await expectError(
    env,
    ["start", "c1"],
    "cannot start an already running container",
  );
  assert.equal(env.sim.power(0), 1, "start was never written twice");
  assert.equal((await env.run(["kill", "c1"])).code, 0);
  await env.until(async () => (await env.state("c1")).status === "stopped");
  await expectError(
    env,
    ["start", "c1"],
    "cannot start a container that has stopped",
  );
  await expectError(env, ["kill", "c1", "TERM"], "container not running");
  assert.equal((await env.run(["kill", "--all", "c1", "9"])).code, 0);
});

Deno.test("delete of a running container without --force uses runc's message", async () => {
  await using env = await setUp();
  await env.deploy("c1");
  await expectError(
    env,
    ["delete", "c1"],
    "cannot delete container c1 that is not stopped: running",
  );
  assert.equal(env.sim.state(0), "running");
});

Deno.test("signals: names with or without SIG and numbers work; others are refused clearly", async () => {
  await using env = await setUp();
  assert.equal((await env.run(["create", "-b", env.bundle(), "c1"])).code, 0);
  await expectError(env, ["kill", "c1", "FOO"], 'unknown signal "FOO"');
  await expectError(
    env,
    ["kill", "c1", "SIGUSR1"],
    "signal SIGUSR1 is not supported: a remote processor can be stopped (TERM, INT) or killed (KILL)",
  );
  await expectError(
    env,
    ["kill", "c1", "37"],
    "signal 37 is not supported: a remote processor can be stopped (TERM, INT) or killed (KILL)",
  );
  assert.equal((await env.state("c1")).status, "created");
  assert.equal((await env.run(["kill", "c1", "SIGKILL"])).code, 0);
  await env.until(async () => (await env.state("c1")).status === "stopped");
});

Deno.test("usage errors are one line: unknown flags, verbs, bad ids, missing ids", async () => {
  await using env = await setUp();
  await expectError(
    env,
    ["--bogus", "list"],
    "unknown flag --bogus (see --help)",
  );
  await expectError(
    env,
    ["state", "--bogus", "c1"],
    "state: unknown flag --bogus",
  );
  await expectError(
    env,
    ["frobnicate"],
    'unknown command "frobnicate" (see --help)',
  );
  await expectError(
    env,
    ["state", "../etc"],
    'invalid container id format: "../etc"',
  );
  await expectError(env, ["state"], "state: container id cannot be empty");
  await expectError(
    env,
    ["--log-format", "xml", "list"],
    '--log-format must be text or json, not "xml"',
  );
});

Deno.test("with --log and json format an error is exactly one JSON line in the log", async () => {
  await using env = await setUp();
  const log = join(env.tmp, "log.json");
  const result = await env.run([
    "--log",
    log,
    "--log-format=json",
    "create",
    "-b",
    env.bundle({ annotations: {} }),
    "c1",
  ]);
  assert.equal(result.code, 1);
  const lines = Deno.readTextFileSync(log).split("\n").filter(Boolean);
  assert.equal(lines.length, 1);
  const record = JSON.parse(lines[0]!);
  assert.equal(record.level, "error");
  assert.match(record.msg, /^annotation remoteproc.name is required/);
  assert.ok(!Number.isNaN(Date.parse(record.time)));
  assert.equal(result.stderr, `remoteproc-runtime: ${record.msg}\n`);
});

Deno.test("path escapes: ../ and symlinks out of the rootfs resolve inside it, never to host files", async () => {
  await using env = await setUp();
  const host = join(env.tmp, "host-secret.elf");
  Deno.writeTextFileSync(host, "host file");
  const cases: Array<[Parameters<Env["bundle"]>[0], string]> = [
    [
      { config: { process: { args: ["../../../host-secret.elf"] } } },
      'firmware file "../../../host-secret.elf" does not exist in the rootfs',
    ],
    [
      { config: { process: { args: [host] } } },
      `firmware file ${JSON.stringify(host)} does not exist in the rootfs`,
    ],
    [
      { symlinks: { "fw.elf": host }, files: {} },
      'firmware file "fw.elf" does not exist in the rootfs',
    ],
    [
      { symlinks: { "fw.elf": "../../host-secret.elf" }, files: {} },
      'firmware file "fw.elf" does not exist in the rootfs',
    ],
    [
      { symlinks: { "fw.elf": "loop", loop: "fw.elf" }, files: {} },
      'firmware file "fw.elf": too many levels of symbolic links',
    ],
    [
      { files: { "fw.elf/x": "dir" } },
      'firmware file "fw.elf" is a directory, not a regular file',
    ],
  ];
  for (const [options, message] of cases) {
    await expectError(
      env,
      ["create", "-b", env.bundle(options), "c1"],
      message,
    );
  }
  await assertClean(env);
});

Deno.test("a symlink inside the rootfs that stays inside is followed", async () => {
  await using env = await setUp();
  await env.deploy("c1", {
    symlinks: { "fw.elf": "/lib/firmware/real.elf" },
    files: { "lib/firmware/real.elf": makeElf() },
  });
  assert.equal(env.sim.state(0), "running");
});
