/**
 * Faults around `start` and `delete`, black-box through the CLI: a
 * `firmware_class.path` that names no usable directory, a firmware
 * directory turned read-only, a full state root, and a proxy that froze
 * right after it started the core. Each gives one line that names the path
 * and what is wrong (never "internal error"); a failed `start` leaves the
 * processor offline; `delete --force` always removes the container and
 * releases the processor. The tests run as root: they mount tmpfs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Env, setUp } from "./helpers/harness.ts";
import { assertClean } from "./helpers/inspect.ts";
import { READY_FILE } from "../core/proxy/files.ts";
import { PROFILES_DIR } from "../core/container/paths.ts";
import { makeElf } from "../fixtures/make_elf.ts";

function run(program: string, args: string[]): void {
  const result = new Deno.Command(program, { args, stderr: "piped" })
    .outputSync();
  assert.ok(
    result.success,
    `${program} ${args.join(" ")}: ${new TextDecoder().decode(result.stderr)}`,
  );
}

/** Mounts a tmpfs (the tests run as root). */
function mountTmpfs(dir: string, options: string): void {
  Deno.mkdirSync(dir, { recursive: true });
  run("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir]);
}

function unmount(dir: string): void {
  new Deno.Command("/bin/umount", { args: [dir], stderr: "null" })
    .outputSync();
}

/** The state directory of container `id` (wherever the layout puts it). */
function stateDirOf(root: string, id: string): string {
  for (const dir of [join(root, id), join(root, "containers", id)]) {
    try {
      if (Deno.statSync(join(dir, "state.json")).isFile) return dir;
    } catch {
      // not here
    }
  }
  throw new Error(`no state directory for ${id} under ${root}`);
}

/** Waits for the proxy's ready file (create does not wait for it). */
async function proxyReady(env: Env, dir: string): Promise<void> {
  await env.until(() => {
    try {
      return Deno.statSync(join(dir, READY_FILE)).isFile;
    } catch {
      return false;
    }
  });
}

async function stopped(env: Env, id: string): Promise<void> {
  const killed = await env.run(["kill", id]);
  assert.equal(killed.code, 0, killed.stderr);
  await env.until(async () => (await env.state(id)).status === "stopped");
}

Deno.test("start with firmware_class.path naming a file, or a directory outside the sysroot (or a symlink to one), fails with one line naming it; delete --force then cleans up", async (t) => {
  await using env = await setUp();
  const file = join(env.sysroot, "etc/firmware-path-file");
  Deno.mkdirSync(join(file, ".."), { recursive: true });
  Deno.writeTextFileSync(file, "");
  const outside = join(env.tmp, "outside-the-sysroot");
  Deno.mkdirSync(outside);
  const link = join(env.sysroot, "firmware-elsewhere");
  run("/bin/ln", ["-s", outside, link]);
  const cases = [
    {
      name: "a regular file",
      path: file,
      error:
        `firmware directory ${file} (firmware_class.path) is not a directory`,
    },
    {
      name: "a directory outside the sysroot",
      path: outside,
      error:
        `firmware directory ${outside} (firmware_class.path) is outside the paths this runtime may write (with a sysroot, only the sysroot)`,
    },
    {
      name: "a symlink in the sysroot to a directory outside it",
      path: link,
      error:
        `firmware directory ${link} (firmware_class.path) is outside the paths this runtime may write (with a sysroot, only the sysroot)`,
    },
  ];
  // Outside the sysroot is refused by path, not only by the launcher's Deno
  // permissions: a compiled binary (or its stand-in) runs with -A.
  for (const c of cases) {
    await t.step(c.name, async () => {
      env.sim.setFirmwarePath(c.path);
      try {
        const created = await env.run(["create", "-b", env.bundle(), "c1"]);
        assert.equal(created.code, 0, created.stderr);
        const started = await env.run(["start", "c1"]);
        assert.equal(started.stderr, `remoteproc-runtime: ${c.error}\n`);
        assert.equal(started.code, 1);
        assert.equal(env.sim.state(0), "offline");
        const deleted = await env.run(["delete", "--force", "c1"]);
        assert.equal(deleted.code, 0, deleted.stderr);
        assert.equal(deleted.stderr, "");
        assert.deepEqual([...Deno.readDirSync(outside)], []);
        await assertClean(env, `with firmware_class.path ${c.name}`);
      } finally {
        env.sim.setFirmwarePath("");
      }
    });
  }
  assert.deepEqual(env.sim.events, []);
});

Deno.test("a read-only firmware directory: delete names the file it cannot remove; delete --force still removes the container and releases the processor, with one warning on stderr and in the log", async () => {
  await using env = await setUp();
  const firmwareDir = join(env.sysroot, "ro-firmware");
  mountTmpfs(firmwareDir, "size=1m");
  try {
    env.sim.setFirmwarePath(firmwareDir);
    await env.deploy("c1");
    await stopped(env, "c1");
    const [name] = env.storedFirmware(firmwareDir);
    const stored = join(firmwareDir, name!);
    run("/bin/mount", ["-o", "remount,ro", firmwareDir]);

    const deleted = await env.run(["delete", "c1"]);
    assert.equal(
      deleted.stderr,
      `remoteproc-runtime: cannot remove stored firmware ${stored}: read-only file system\n`,
    );
    assert.equal(deleted.code, 1);
    assert.deepEqual(env.containers().length, 1, "the container stays");

    const log = join(env.tmp, "delete.log");
    const forced = await env.run(["--log", log, "delete", "--force", "c1"]);
    const warning =
      `stored firmware ${stored} not removed: read-only file system`;
    assert.equal(forced.stderr, `remoteproc-runtime: warning: ${warning}\n`);
    assert.equal(forced.code, 0);
    const logged = Deno.readTextFileSync(log).trim().split("\n");
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /level=warning/);
    assert.ok(logged[0]!.includes(JSON.stringify(warning)), logged[0]!);
    assert.deepEqual(env.containers(), []);
    assert.deepEqual(env.claims(), []);
    assert.equal(env.sim.state(0), "offline");
    assert.deepEqual(env.storedFirmware(firmwareDir), [name], "named, kept");
  } finally {
    env.sim.setFirmwarePath("");
    unmount(firmwareDir);
  }
});

Deno.test("a firmware directory too full for the image: start names the file it could not store, and the partial copy is removed", async () => {
  await using env = await setUp();
  const firmwareDir = join(env.sysroot, "small-firmware");
  mountTmpfs(firmwareDir, "size=64k");
  try {
    env.sim.setFirmwarePath(firmwareDir);
    const bundle = env.bundle({
      files: { "fw.elf": makeElf({ size: 256 * 1024 }) },
    });
    assert.equal((await env.run(["create", "-b", bundle, "c1"])).code, 0);
    const started = await env.run(["start", "c1"]);
    assert.match(
      started.stderr,
      new RegExp(
        `^remoteproc-runtime: cannot store firmware ${firmwareDir}/fw-\\w+-[0-9a-f]{8}\\.elf: no space left on device\n$`,
      ),
    );
    assert.equal(started.code, 1);
    assert.deepEqual(env.storedFirmware(firmwareDir), [], "no partial copy");
    assert.equal(env.sim.state(0), "offline");
    const deleted = await env.run(["delete", "c1"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    await assertClean(env, "after a full firmware directory");
  } finally {
    env.sim.setFirmwarePath("");
    unmount(firmwareDir);
  }
});

Deno.test("a state root that fills up during start: the processor that started is stopped again and start fails with one line; state says stopped", async () => {
  await using env = await setUp();
  const root = join(env.tmp, "small-state");
  mountTmpfs(root, "size=64k");
  const cli = (args: string[]) => env.run(["--root", root, ...args]);
  try {
    const created = await cli(["create", "-b", env.bundle(), "c1"]);
    assert.equal(created.code, 0, created.stderr);
    await proxyReady(env, stateDirOf(root, "c1"));
    // Fill the tmpfs, then free one page: enough for start to record its
    // intent (a new state file replaces the old one) and for the proxy's
    // result, not for the state file that records the running processor.
    const filler = join(root, ".filler");
    const file = Deno.openSync(filler, { write: true, create: true });
    const page = new Uint8Array(4096);
    let size = 0;
    try {
      for (;;) size += file.writeSync(page);
    } catch (error) {
      assert.equal((error as { code?: string }).code, "ENOSPC");
    } finally {
      file.close();
    }
    Deno.truncateSync(filler, Math.floor(size / 4096) * 4096 - 4096);

    const started = await cli(["start", "c1"]);
    assert.match(
      started.stderr,
      /^remoteproc-runtime: cannot write \S+\/c1\/state\.json: no space left on device\n$/,
    );
    assert.equal(started.code, 1);
    assert.equal(env.sim.state(0), "offline", "never exit 1 while running");
    assert.deepEqual(env.storedFirmware(), []);
    Deno.removeSync(filler);
    const state = await cli(["state", "c1"]);
    assert.equal(JSON.parse(state.stdout).status, "stopped");
    const deleted = await cli(["delete", "c1"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    await assertClean(env, "after a full state root");
    assert.deepEqual(env.sim.violations, []);
  } finally {
    await cli(["delete", "--force", "c1"]);
    unmount(root);
  }
});

Deno.test("a start that fails after the core reached running stops it again (its proxy froze right after it wrote start)", async () => {
  await using env = await setUp();
  let pid = 0;
  try {
    // A short start budget: (300 + 100) * 1 + 2000 ms.
    const profiles = join(env.sysroot, PROFILES_DIR);
    Deno.mkdirSync(profiles, { recursive: true });
    Deno.writeTextFileSync(
      join(profiles, "quick.json"),
      JSON.stringify({
        name: "quick",
        match: { names: ["m4"] },
        start: { timeoutMs: 300 },
      }),
    );
    const created = await env.run(["create", "-b", env.bundle(), "c1"]);
    assert.equal(created.code, 0, created.stderr);
    pid = (await env.state("c1")).pid;
    await proxyReady(env, stateDirOf(env.root, "c1"));
    // The proxy freezes. What it would have done, the test does: write
    // start once start has written the firmware name.
    Deno.kill(pid, "SIGSTOP");
    const starting = env.run(["start", "c1"]);
    await env.until(() => env.sim.firmware(0).startsWith("fw-"));
    Deno.writeTextFileSync(join(env.sim.classDir(0), "state"), "start");
    await env.until(() => env.sim.state(0) === "running");

    const started = await starting;
    assert.equal(
      started.stderr,
      "remoteproc-runtime: no answer from the proxy within 2400 ms\n",
    );
    assert.equal(started.code, 1);
    assert.equal(env.sim.state(0), "offline", "the rollback stopped the core");
    assert.deepEqual(env.storedFirmware(), []);
    assert.equal((await env.state("c1")).status, "stopped");
    const deleted = await env.run(["delete", "c1"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    await assertClean(env, "after a start rolled back from running");
    assert.deepEqual(env.sim.violations, []);
  } finally {
    if (pid > 0) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // killed by the rollback
      }
    }
  }
});
