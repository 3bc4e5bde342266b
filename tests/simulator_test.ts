import assert from "node:assert/strict";
import { join } from "node:path";
import { Simulator } from "../sim/simulator.ts";
import { makeElf } from "../fixtures/make_elf.ts";
import { LAUNCHER } from "./helpers/harness.ts";
import { startSim } from "./helpers/sim_cli.ts";

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
      // The copy into debugfs takes what it takes on a loaded machine.
      await until(
        () => Deno.readTextFileSync(debugfs).trim() === value,
        `write ${i} reaches debugfs`,
      );
      assert.equal(Deno.readTextFileSync(path).trim(), value, `write ${i}`);
    }
    assert.deepEqual(sim.errors, []);
  } finally {
    await sim.close();
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("a late event for one recovery file never undoes a newer write to the other", async () => {
  const root = Deno.makeTempDirSync({ prefix: "rprt-sim-" });
  const sim = await Simulator.create({ root, processors: [{ name: "r5" }] });
  try {
    const sysfs = join(sim.classDir(0), "recovery");
    const debugfs = join(
      sim.root,
      "sys/kernel/debug/remoteproc/remoteproc0/recovery",
    );
    for (let i = 0; i < 6; i++) {
      const [old, now] = i % 2 === 0
        ? ["disabled", "enabled"]
        : ["enabled", "disabled"];
      Deno.writeTextFileSync(sysfs, `${old}\n`);
      await until(() => read(debugfs) === old, `${old} reaches debugfs`);
      await sleep(50);
      // In one go, as when an event for the simulator's own copy into
      // debugfs comes late: debugfs is written (unchanged), then sysfs.
      Deno.writeTextFileSync(debugfs, `${old}\n`);
      Deno.writeTextFileSync(sysfs, `${now}\n`);
      await until(() => read(debugfs) === now, `${now} reaches debugfs`);
      await sleep(50);
      assert.equal(read(sysfs), now, `round ${i}`);
      assert.equal(read(debugfs), now, `round ${i}`);
    }
    assert.deepEqual(sim.errors, []);
  } finally {
    await sim.close();
    Deno.removeSync(root, { recursive: true });
  }
});

// ------------------------------------------------------------ the command line

/**
 * Runs bin/remoteproc-runtime against `sysroot`. stdout goes to `out` and
 * stderr to a file, never to pipes: the proxy `create` spawns inherits both
 * and outlives it.
 */
async function rt(
  sysroot: string,
  args: string[],
  out = "/dev/null",
): Promise<{ code: number; stderr: string }> {
  const err = Deno.makeTempFileSync({ prefix: "rprt-sim-err-" });
  try {
    const { code } = await new Deno.Command("/bin/sh", {
      args: [
        "-c",
        'out=$1 err=$2; shift 2; exec "$@" >>"$out" 2>"$err"',
        "sh",
        out,
        err,
        LAUNCHER,
        ...args,
      ],
      env: { REMOTEPROC_RUNTIME_SYSROOT: sysroot },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return { code, stderr: Deno.readTextFileSync(err) };
  } finally {
    Deno.removeSync(err);
  }
}

function bundle(dir: string, name: string): string {
  Deno.mkdirSync(join(dir, "rootfs"), { recursive: true });
  Deno.writeFileSync(join(dir, "rootfs/fw.elf"), makeElf());
  Deno.writeTextFileSync(
    join(dir, "config.json"),
    JSON.stringify({
      ociVersion: "1.0.2",
      process: { args: ["fw.elf"], cwd: "/" },
      root: { path: "rootfs" },
      annotations: { "remoteproc.name": name },
    }),
  );
  return dir;
}

const read = (path: string) => Deno.readTextFileSync(path).trim();
const classState = (root: string, n: number) =>
  read(join(root, `sys/class/remoteproc/remoteproc${n}/state`));

async function until(fn: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !fn(); i++) await sleep(20);
  assert.ok(fn(), what);
}

Deno.test("the simulator restarts on its own root and reuses it: a running container carries on", async () => {
  const tmp = Deno.makeTempDirSync({ prefix: "rprt-sim-" });
  const root = join(tmp, "sim");
  const log = join(tmp, "proxy.log");
  try {
    let sim = await startSim(["--root", root, "--processors", "m4,dsp"]);
    assert.equal(sim.code, undefined, sim.err);
    assert.match(sim.out, /\(new tree\)/);
    const b = bundle(join(tmp, "bundle"), "m4");
    assert.equal((await rt(root, ["create", "-b", b, "c1"], log)).code, 0);
    assert.equal((await rt(root, ["start", "c1"])).code, 0);
    assert.equal(classState(root, 0), "running");
    assert.equal((await sim.stop()).code, 0);

    // The same command again: it used to die on the symlinks it had made.
    sim = await startSim(["--root", root, "--processors", "m4,dsp"]);
    assert.equal(sim.code, undefined, sim.err);
    assert.match(sim.out, /reused: processors keep their state/);
    assert.match(sim.out, /remoteproc0: m4, running,/);
    assert.match(sim.out, /remoteproc1: dsp, offline,/);
    // The proxy still watches the same files, and the simulator answers it.
    assert.equal((await rt(root, ["kill", "c1", "TERM"])).code, 0);
    await until(() => classState(root, 0) === "offline", "m4 stopped");
    await until(() => read(log).includes("stopped on request"), read(log));
    assert.equal((await rt(root, ["delete", "c1"])).code, 0);
    const { out, code } = await sim.stop();
    assert.equal(code, 0);
    assert.match(out, /remoteproc0: running -> offline/);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("the simulator's --reset powers off what runs, removes everything and starts afresh", async () => {
  const tmp = Deno.makeTempDirSync({ prefix: "rprt-sim-" });
  const root = join(tmp, "sim");
  const log = join(tmp, "proxy.log");
  try {
    let sim = await startSim(["--root", root]);
    const b = bundle(join(tmp, "bundle"), "m4");
    assert.equal((await rt(root, ["create", "-b", b, "c1"], log)).code, 0);
    assert.equal((await rt(root, ["start", "c1"])).code, 0);
    Deno.writeTextFileSync(join(root, "lib/firmware/left.elf"), "x");
    await sim.stop();

    sim = await startSim(["--root", root, "--reset", "--processors", "r5"]);
    assert.equal(sim.code, undefined, sim.err);
    assert.match(sim.out, /\(new tree\)/);
    assert.match(sim.out, /remoteproc0: r5, offline,/);
    // The proxy saw its core go offline and ended.
    await until(
      () => read(log).includes("stopped outside the runtime"),
      read(log),
    );
    assert.deepEqual([...Deno.readDirSync(join(root, "lib/firmware"))], []);
    // No runtime state, no stored firmware: a new tree.
    assert.deepEqual(
      [...Deno.readDirSync(root)].map((e) => e.name).sort(),
      [".remoteproc-simulator", "lib", "sys"],
    );
    assert.equal((await sim.stop()).code, 0);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("the simulator refuses a root it did not build, with one line, and writes nothing", async () => {
  const tmp = Deno.makeTempDirSync({ prefix: "rprt-sim-" });
  try {
    Deno.writeTextFileSync(join(tmp, "precious"), "keep me");
    for (const extra of [[], ["--reset"]]) {
      const sim = await startSim(["--root", tmp, ...extra]);
      assert.equal(sim.code, 1);
      assert.equal(
        sim.err,
        `simulator: ${
          Deno.realPathSync(tmp)
        } is neither empty nor a simulator root (it has no .remoteproc-simulator): choose a new or empty directory\n`,
      );
      assert.deepEqual(
        [...Deno.readDirSync(tmp)].map((e) => e.name),
        ["precious"],
      );
    }
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("the simulator's command line gives a processor a driver and a compatible: the i.MX plugin takes a bootloader-started core", async () => {
  const tmp = Deno.makeTempDirSync({ prefix: "rprt-sim-" });
  const root = join(tmp, "sim");
  try {
    const sim = await startSim([
      "--root",
      root,
      "--processors",
      "m4:driver=imx-rproc:compatible=fsl,imx8mm-cm4:bootState=attached,dsp",
    ]);
    assert.equal(sim.code, undefined, sim.err);
    assert.match(
      sim.out,
      /remoteproc0: m4, attached, driver imx-rproc, compatible fsl,imx8mm-cm4,/,
    );
    assert.match(sim.out, /remoteproc1: dsp, offline, driver sim-rproc,/);
    const device = join(root, "sys/class/remoteproc/remoteproc0/device");
    assert.equal(
      Deno.realPathSync(join(device, "driver")),
      join(Deno.realPathSync(root), "sys/bus/platform/drivers/imx-rproc"),
    );
    assert.equal(
      read(join(device, "of_node/compatible")),
      "fsl,imx8mm-cm4\0",
    );
    // The generic plugin refuses an attached core; i.MX stops it first.
    const b = bundle(join(tmp, "bundle"), "m4");
    const created = await rt(root, ["create", "-b", b, "c1"]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await rt(root, ["start", "c1"])).code, 0);
    assert.equal((await rt(root, ["delete", "--force", "c1"])).code, 0);
    const { out } = await sim.stop();
    assert.match(
      out,
      /remoteproc0: attached -> offline\nremoteproc0: offline -> running\n/,
    );
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("the simulator takes a --board JSON file: a TI K3 R5F bound through its cluster node", async () => {
  const tmp = Deno.makeTempDirSync({ prefix: "rprt-sim-" });
  const root = join(tmp, "sim");
  const board = join(tmp, "board.json");
  try {
    Deno.writeTextFileSync(
      board,
      JSON.stringify({
        processors: [{
          name: "78000000.r5f",
          driver: "k3_r5_rproc",
          compatible: ["ti,am64-r5fss"],
          cluster: "78000000.r5fss",
          deviceName: "78000000.r5f",
          recovery: "disabled",
          trace: true,
        }],
      }),
    );
    const sim = await startSim(["--root", root, "--board", board]);
    assert.equal(sim.code, undefined, sim.err);
    assert.match(
      sim.out,
      /remoteproc0: 78000000.r5f, offline, driver k3_r5_rproc, compatible ti,am64-r5fss, recovery disabled, trace buffer trace0/,
    );
    const device = join(root, "sys/class/remoteproc/remoteproc0/device");
    assert.equal(
      Deno.realPathSync(join(Deno.realPathSync(device), "../driver")),
      join(Deno.realPathSync(root), "sys/bus/platform/drivers/k3_r5_rproc"),
    );
    await sim.stop();

    Deno.writeTextFileSync(
      board,
      JSON.stringify({ processors: [{ name: "m4", drvier: "x" }] }),
    );
    const bad = await startSim(["--root", root, "--board", board]);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.err,
      `simulator: ${board}: processor 1 (m4): unknown field "drvier"\n`,
    );
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("the simulator says which processors recover from a crash, and how to turn it off, next to the crash hint", async () => {
  const tmp = Deno.makeTempDirSync({ prefix: "rprt-sim-" });
  const root = join(tmp, "sim");
  try {
    const sim = await startSim([
      "--root",
      root,
      "--processors",
      "m4,dsp:recovery=disabled,r5",
      "--trace",
    ]);
    const at = Deno.realPathSync(root);
    const lines = sim.out.split("\n");
    const crash = lines.findIndex((l) => l.startsWith("crash remoteproc0:"));
    assert.ok(crash > 0, sim.out);
    assert.equal(
      lines[crash],
      `crash remoteproc0: echo 1 > ${at}/sys/kernel/debug/remoteproc/remoteproc0/crash`,
    );
    assert.equal(
      lines[crash + 1],
      "  recovery is enabled on remoteproc0 (m4), remoteproc2 (r5): the kernel restarts a crashed core and its container keeps running",
    );
    assert.equal(
      lines[crash + 2],
      `  to let a crash stop the container: echo disabled > ${at}/sys/class/remoteproc/remoteproc0/recovery`,
    );
    assert.match(
      sim.out,
      /remoteproc1: dsp, offline, .*recovery disabled, trace buffer trace0/,
    );
    assert.ok(
      Deno.statSync(join(at, "sys/kernel/debug/remoteproc/remoteproc2/trace0"))
        .isFile,
    );
    // The printed way to disable it works.
    Deno.writeTextFileSync(
      join(at, "sys/class/remoteproc/remoteproc0/recovery"),
      "disabled\n",
    );
    await until(
      () =>
        read(join(at, "sys/kernel/debug/remoteproc/remoteproc0/recovery")) ===
          "disabled",
      "recovery disabled",
    );
    await sim.stop();
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("the simulator's command-line mistakes get one line and exit 2, never a stack trace", async () => {
  const cases: Array<[string[], string]> = [
    [
      ["--bogus"],
      "simulator: Unknown option '--bogus' (--help lists the options)\n",
    ],
    [
      ["--processors", "m4:startDelayMs=soon"],
      "simulator: --processors: processor 1 (m4), field startDelayMs: Invalid input: expected number, received string\n",
    ],
    [
      ["--processors", "m4:refuseStart=busy"],
      "simulator: --processors: processor 1 (m4), field refuseStart: an errno name such as EBUSY\n",
    ],
    [
      ["--processors", "m4", "--board", "b.json"],
      "simulator: give --processors or --board, not both\n",
    ],
    [
      ["--board", "/nonexistent/b.json"],
      "simulator: cannot read /nonexistent/b.json: no such file\n",
    ],
  ];
  for (const [args, err] of cases) {
    const sim = await startSim(args);
    assert.equal(sim.code, 2, args.join(" "));
    assert.equal(sim.err, err);
    assert.equal(sim.out, "");
  }
  const help = await startSim(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /^usage: npm run sim -- \[--root DIR\] \[--reset\]/);
  assert.match(
    help.out,
    /--trace {13}give every processor a debugfs trace buffer/,
  );
});

Deno.test("a simulator built again on its root answers a command written while none ran, and drops processors no longer given", async () => {
  const root = Deno.makeTempDirSync({ prefix: "rprt-sim-" });
  try {
    let sim = await Simulator.create({
      root,
      processors: [{ name: "m4" }, { name: "dsp" }],
    });
    await sim.close();
    Deno.writeFileSync(join(root, "lib/firmware/fw.elf"), makeElf());
    Deno.writeTextFileSync(join(sim.classDir(0), "firmware"), "fw.elf\n");
    Deno.writeTextFileSync(join(sim.classDir(0), "state"), "start\n");

    sim = await Simulator.create({ root, processors: [{ name: "m4" }] });
    try {
      await until(() => sim.state(0) === "running", "m4 running");
      assert.equal(sim.firmware(0), "fw.elf");
      assert.deepEqual(
        [...Deno.readDirSync(join(root, "sys/class/remoteproc"))].map((e) =>
          e.name
        ),
        ["remoteproc0"],
      );
      assert.deepEqual(sim.violations, []);
    } finally {
      await sim.close();
    }
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
