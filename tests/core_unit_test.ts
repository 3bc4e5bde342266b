import assert from "node:assert/strict";
import { join } from "node:path";
import { parseSignal } from "../core/os/signals.ts";
import { validateId } from "../core/container/ids.ts";
import { firmwareName } from "../core/firmware/placement.ts";
import {
  assertCanDelete,
  assertCanStart,
  canKill,
} from "../core/container/status.ts";
import { createSysfs } from "../core/device/sysfs.ts";
import { defaultStateRoot } from "../core/container/paths.ts";
import { secureJoin } from "../core/firmware/bundle.ts";
import {
  ConfigError,
  InvalidStateError,
  UsageError,
} from "../core/util/errors.ts";
import { parseFirmware } from "../core/firmware/elf.ts";
import { checkMachine } from "../core/firmware/check.ts";
import { genericPlugin } from "../plugins/generic.ts";
import { definePlugin, type PluginContext } from "../core/plugin/types.ts";
import { makeElf } from "../fixtures/make_elf.ts";
import { makeSymlinks } from "../sim/symlinks.ts";

Deno.test("parseSignal() accepts names with or without SIG, any case, and numbers", () => {
  for (const raw of ["TERM", "SIGTERM", "term", "15"]) {
    assert.equal(parseSignal(raw), "SIGTERM");
  }
  for (const raw of ["KILL", "SIGKILL", "9"]) {
    assert.equal(parseSignal(raw), "SIGKILL");
  }
  for (const raw of ["INT", "SIGINT", "2"]) {
    assert.equal(parseSignal(raw), "SIGINT");
  }
  assert.equal(parseSignal(undefined), "SIGTERM");
});

Deno.test("parseSignal() tells unknown signals from known ones a processor cannot honour", () => {
  assert.throws(() => parseSignal("FOO"), { message: 'unknown signal "FOO"' });
  assert.throws(() => parseSignal("0"), { message: 'unknown signal "0"' });
  assert.throws(() => parseSignal("99"), { message: 'unknown signal "99"' });
  assert.throws(() => parseSignal("HUP"), /signal HUP is not supported/);
  assert.throws(
    () => parseSignal("RTMIN+3"),
    /signal RTMIN\+3 is not supported/,
  );
});

Deno.test("validateId() follows runc's id rules", () => {
  for (const id of ["a", "fw-1", "A_b.c+d", "x".repeat(64)]) validateId(id);
  for (const id of ["", "a/b", "..", ".", "a b", "a\nb", "a\0b", "é"]) {
    assert.throws(() => validateId(id), UsageError, JSON.stringify(id));
  }
});

Deno.test("firmwareName() with the default placement keeps the extension and strips unsafe characters", () => {
  const at = new Date("2026-01-02T03:04:05.678Z");
  const m4 = { index: "remoteproc0", name: "m4" };
  const name = (source: string, date?: Date, random?: string) =>
    firmwareName(source, {}, m4, date, random);
  assert.equal(
    name("/r/fw.elf", at, "0a1b2c3d"),
    "fw-20260102T030405Z-0a1b2c3d.elf",
  );
  assert.equal(
    name("/r/my fw$.bin", at, "00000000"),
    "my_fw_-20260102T030405Z-00000000.bin",
  );
  assert.equal(
    name("/r/.hidden", at, "00000000"),
    "hidden-20260102T030405Z-00000000",
  );
  assert.match(name("/r/fw.elf"), /^fw-\d{8}T\d{6}Z-[0-9a-f]{8}\.elf$/);
  assert.notEqual(name("/r/fw.elf", at), name("/r/fw.elf", at));
});

Deno.test("status rules: start only from created, kill created/running, delete created/stopped", () => {
  assertCanStart("created");
  assert.throws(() => assertCanStart("running"), {
    message: "cannot start an already running container",
  });
  assert.throws(() => assertCanStart("stopped"), {
    message: "cannot start a container that has stopped",
  });
  assert.deepEqual(
    (["creating", "created", "running", "stopped"] as const).map(canKill),
    [false, true, true, false],
  );
  assertCanDelete("c", "stopped");
  assertCanDelete("c", "created");
  assert.throws(() => assertCanDelete("c", "running"), InvalidStateError);
});

Deno.test("defaultStateRoot() follows uid, XDG_RUNTIME_DIR (empty under podman) and the sysroot", () => {
  assert.equal(
    defaultStateRoot({ sysroot: "/", uid: 0 }),
    "/run/remoteproc-runtime",
  );
  assert.equal(
    defaultStateRoot({
      sysroot: "/",
      uid: 1000,
      xdgRuntimeDir: "/run/user/1000",
    }),
    "/run/user/1000/remoteproc-runtime",
  );
  assert.equal(
    defaultStateRoot({ sysroot: "/", uid: 1000, xdgRuntimeDir: "" }),
    "/tmp/remoteproc-runtime-1000",
  );
  assert.equal(
    defaultStateRoot({ sysroot: "/s", uid: 1000 }),
    "/s/run/remoteproc-runtime",
  );
});

Deno.test("firmwareDir() uses firmware_class.path when set and refuses a path ending in a newline", () => {
  const root = Deno.makeTempDirSync();
  try {
    const param = join(root, "sys/module/firmware_class/parameters");
    Deno.mkdirSync(param, { recursive: true });
    const sysfs = createSysfs({ sysroot: root });
    Deno.writeTextFileSync(join(param, "path"), "\n");
    assert.equal(sysfs.firmwareDir(), join(root, "lib/firmware"));
    Deno.writeTextFileSync(join(param, "path"), "/opt/fw\n");
    assert.equal(
      sysfs.firmwareDir(),
      "/opt/fw",
      "taken as written, not re-rooted",
    );
    Deno.writeTextFileSync(join(param, "path"), "\n\n");
    assert.equal(
      sysfs.firmwareDir(),
      join(root, "lib/firmware"),
      "a bare newline counts as unset",
    );
    Deno.writeTextFileSync(join(param, "path"), "/opt/fw\n\n");
    assert.throws(() => sysfs.firmwareDir(), /contains a newline/);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("secureJoin() never leaves the root, whatever .. and links say", () => {
  const root = Deno.makeTempDirSync();
  try {
    assert.equal(
      secureJoin(root, "../../etc/passwd"),
      join(root, "etc/passwd"),
    );
    assert.equal(secureJoin(root, "/a/../../b"), join(root, "b"));
    assert.equal(secureJoin(root, "./x/./y"), join(root, "x/y"));
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

/**
 * Swaps `<root>/link` between a symlink and a regular file (and nothing in
 * between) as fast as renames go, in a worker, until `stop` is set.
 */
function swapper(root: string, stop: Int32Array): Worker {
  const code = `
    self.onmessage = ({ data: { root, stop } }) => {
      const at = (name) => root + "/" + name;
      while (Atomics.load(stop, 0) === 0) {
        Deno.renameSync(at("stash-link"), at("link"));
        Deno.renameSync(at("link"), at("stash-link"));
        Deno.renameSync(at("stash-file"), at("link"));
        Deno.renameSync(at("link"), at("stash-file"));
      }
      self.postMessage("stopped");
    };
  `;
  const worker = new Worker(
    URL.createObjectURL(new Blob([code], { type: "text/javascript" })),
    { type: "module" },
  );
  worker.postMessage({ root, stop });
  return worker;
}

Deno.test("secureJoin() on a rootfs that changes while it resolves fails with a ConfigError naming the path, never a raw readlink error", async () => {
  const root = Deno.makeTempDirSync();
  Deno.writeTextFileSync(join(root, "fw.elf"), "firmware");
  Deno.writeTextFileSync(join(root, "stash-file"), "not a link");
  makeSymlinks([["fw.elf", join(root, "stash-link")]]);
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const worker = swapper(root, stop);
  const stopped = new Promise((resolve) => worker.onmessage = resolve);
  try {
    let races = 0;
    const deadline = Date.now() + 20_000;
    for (let i = 0; races < 3 && Date.now() < deadline; i++) {
      try {
        secureJoin(root, "link");
      } catch (error) {
        assert.ok(error instanceof ConfigError, String(error));
        assert.match(
          error.message,
          /^firmware file "link": \/link changed while it was resolved \((invalid argument|no such file or directory)\)$/,
        );
        races++;
      }
      if (i % 1000 === 999) await new Promise((r) => setTimeout(r, 0));
    }
    assert.ok(races > 0, "the link never changed between lstat and readlink");
  } finally {
    Atomics.store(stop, 0, 1);
    await stopped;
    worker.terminate();
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("checkMachine() takes the host's own architecture for a Linux program, on any host", () => {
  const context = {} as PluginContext;
  const aarch64 = parseFirmware(makeElf({ class: 64, machine: 183 }));
  const x86 = parseFirmware(makeElf({ class: 64, machine: 62 }));
  assert.throws(
    () => checkMachine(aarch64, genericPlugin, context, "aarch64"),
    /: is a Linux program \(built for AArch64, the host's own architecture, which plugin generic does not declare for this processor\), not firmware$/,
  );
  checkMachine(aarch64, genericPlugin, context, "x86_64");
  assert.throws(
    () => checkMachine(x86, genericPlugin, context, "x86_64"),
    /built for x86-64, the host's own architecture/,
  );
  checkMachine(x86, genericPlugin, context, "aarch64");
  const declared = definePlugin({
    apiVersion: 1,
    name: "a53",
    description: "Cortex-A53 cores",
    matches: () => true,
    firmwareMachines: () => ({ machines: [183], core: "a Cortex-A53" }),
  });
  checkMachine(aarch64, declared, context, "aarch64");
  assert.throws(
    () => checkMachine(x86, declared, context, "aarch64"),
    /: built for x86-64, but the processor is a Cortex-A53 \(AArch64\): rebuild it for that core$/,
  );
});
