import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  AccessFs,
  handledAccessFs,
  landlockAbi,
  type LandlockSyscalls,
  restrictSelf,
} from "../core/os/landlock.ts";
import { RuntimeError } from "../core/util/errors.ts";
import { makeSymlinks } from "../sim/symlinks.ts";

const HELPER = fileURLToPath(
  new URL("./helpers/landlock_confined.ts", import.meta.url),
);

const FILE_RIGHTS = AccessFs.EXECUTE | AccessFs.WRITE_FILE |
  AccessFs.READ_FILE | AccessFs.TRUNCATE | AccessFs.IOCTL_DEV;

interface FakeCalls {
  handled: bigint[];
  rules: { path: string; access: bigint }[];
  restrictFlags: number[];
  noNewPrivs: number;
  open: number;
}

/** A syscall layer that pretends to be a kernel with the given ABI. */
function fakeSyscalls(
  abi: number,
  overrides: Partial<LandlockSyscalls> = {},
): { syscalls: LandlockSyscalls; calls: FakeCalls } {
  const calls: FakeCalls = {
    handled: [],
    rules: [],
    restrictFlags: [],
    noNewPrivs: 0,
    open: 0,
  };
  const paths = new Map<number, string>();
  let nextFd = 100;
  const syscalls: LandlockSyscalls = {
    createRuleset(attr) {
      if (attr === null) return abi;
      calls.handled.push(new DataView(attr.buffer).getBigUint64(0, true));
      return 3;
    },
    addRule(_rulesetFd, _type, attr) {
      const view = new DataView(attr.buffer);
      const path = paths.get(view.getInt32(8, true)) ?? "?";
      calls.rules.push({ path, access: view.getBigUint64(0, true) });
      return 0;
    },
    restrictSelf(_rulesetFd, flags) {
      calls.restrictFlags.push(flags);
      return 0;
    },
    setNoNewPrivs() {
      calls.noNewPrivs++;
      return 0;
    },
    openPath(path, directory, noFollow) {
      // Classifies the target as the kernel would, from the real file.
      let info: Deno.FileInfo;
      try {
        info = noFollow ? Deno.lstatSync(path) : Deno.statSync(path);
      } catch {
        return -2; // ENOENT
      }
      if (directory && !info.isDirectory) return -20; // ENOTDIR
      calls.open++;
      paths.set(nextFd, path);
      return nextFd++;
    },
    close(fd) {
      if (fd !== 3) calls.open--;
    },
    ...overrides,
  };
  return { syscalls, calls };
}

Deno.test("landlockAbi() reports Landlock on this kernel", () => {
  assert.ok(landlockAbi() >= 1);
});

Deno.test("a confined Deno process", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "landlock_test_" });
  try {
    const setup = {
      allowed: `${root}/allowed`,
      denied: `${root}/denied`,
      readable: `${root}/readable.txt`,
      unreadable: `${root}/unreadable.txt`,
      unreadableModule: `${root}/unreadable_module.ts`,
    };
    await Deno.mkdir(setup.allowed);
    await Deno.mkdir(setup.denied);
    await Deno.writeTextFile(setup.readable, "yes");
    await Deno.writeTextFile(setup.unreadable, "no");
    await Deno.writeTextFile(setup.unreadableModule, "export const x = 1;\n");
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", HELPER, JSON.stringify(setup)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(run.stderr);
    assert.equal(run.code, 0, stderr);
    const { status, parent, child } = JSON.parse(
      new TextDecoder().decode(run.stdout),
    );

    await t.step("is enforced at the kernel's ABI", () => {
      assert.equal(status.enforced, true);
      assert.equal(status.abi, landlockAbi());
      assert.deepEqual(status.skipped, []);
    });
    await t.step("can write a file in its allowed directory", () => {
      assert.equal(parent.writeAllowed, "ok");
      assert.equal(parent.asyncWriteAllowed, "ok");
    });
    await t.step("is refused writes elsewhere with PermissionDenied", () => {
      assert.equal(parent.writeDenied, "PermissionDenied");
    });
    await t.step("can read an allowed file but no other", () => {
      assert.equal(parent.readAllowed, "ok");
      assert.equal(parent.readDenied, "PermissionDenied");
    });
    await t.step("imports a readable module but not an unreadable one", () => {
      assert.equal(parent.importReadable, "ok");
      assert.equal(parent.importUnreadable, "TypeError");
    });
    await t.step("passes the whole restriction to a child it spawns", () => {
      assert.deepEqual(child, {
        writeAllowed: "ok",
        writeDenied: "PermissionDenied",
        asyncWriteAllowed: "ok",
        asyncWriteDenied: "PermissionDenied",
        readAllowed: "ok",
        readDenied: "PermissionDenied",
        importReadable: "ok",
        importUnreadable: "TypeError",
      });
    });
    await t.step(
      "leaves its own async writes unconfined unless allThreads is true",
      () => {
        // Below ABI 8 Deno's blocking-pool threads, started before the
        // restriction, stay outside it. Documented gap, pinned here.
        const expected = status.allThreads ? "PermissionDenied" : "ok";
        assert.equal(parent.asyncWriteDenied, expected);
      },
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("restrictSelf() without Landlock (ENOSYS) returns enforced: false with a reason", () => {
  const { syscalls, calls } = fakeSyscalls(-38);
  const status = restrictSelf({ readWrite: ["/tmp"] }, { syscalls });
  assert.equal(status.enforced, false);
  assert.equal(status.abi, 0);
  assert.match(status.reason ?? "", /ENOSYS/);
  assert.equal(calls.noNewPrivs, 0);
  assert.deepEqual(calls.restrictFlags, []);
});

Deno.test("restrictSelf() with Landlock disabled at boot (EOPNOTSUPP) says so", () => {
  const { syscalls } = fakeSyscalls(-95);
  const status = restrictSelf({ read: ["/"] }, { syscalls });
  assert.equal(status.enforced, false);
  assert.match(status.reason ?? "", /disabled/);
});

Deno.test("landlockAbi() is 0 when the kernel has no Landlock", () => {
  assert.equal(landlockAbi({ syscalls: fakeSyscalls(-38).syscalls }), 0);
});

Deno.test("handledAccessFs() leaves out rights newer than the ABI", () => {
  const base = (1n << 13n) - 1n;
  assert.equal(handledAccessFs(0), 0n);
  assert.equal(handledAccessFs(1), base);
  assert.equal(handledAccessFs(2), base | AccessFs.REFER);
  const v3 = base | AccessFs.REFER | AccessFs.TRUNCATE;
  assert.equal(handledAccessFs(3), v3);
  assert.equal(handledAccessFs(4), v3);
  assert.equal(handledAccessFs(5), v3 | AccessFs.IOCTL_DEV);
  assert.equal(handledAccessFs(8), v3 | AccessFs.IOCTL_DEV);
});

Deno.test("restrictSelf() on ABI 2 handles REFER but not TRUNCATE", () => {
  const { syscalls, calls } = fakeSyscalls(2);
  restrictSelf({ readWrite: ["/tmp"] }, { syscalls });
  assert.deepEqual(calls.handled, [handledAccessFs(2)]);
  for (const rule of calls.rules) {
    assert.equal(rule.access & AccessFs.TRUNCATE, 0n);
  }
});

Deno.test("restrictSelf() keeps only file rights on a rule for a file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/firmware.elf`;
    await Deno.writeTextFile(file, "");
    const { syscalls, calls } = fakeSyscalls(5);
    const status = restrictSelf(
      { readWrite: [file, dir], execute: [file] },
      { syscalls },
    );
    assert.equal(status.enforced, true);
    const onFile = calls.rules.filter((rule) => rule.path === file);
    assert.equal(onFile.length, 2);
    for (const rule of onFile) assert.equal(rule.access & ~FILE_RIGHTS, 0n);
    assert.equal(
      onFile[1]?.access,
      AccessFs.READ_FILE | AccessFs.WRITE_FILE | AccessFs.TRUNCATE |
        AccessFs.IOCTL_DEV,
    );
    assert.equal(onFile[0]?.access, AccessFs.EXECUTE | AccessFs.READ_FILE);
    const onDir = calls.rules.find((rule) => rule.path === dir)?.access ?? 0n;
    assert.equal(onDir & AccessFs.MAKE_DIR, AccessFs.MAKE_DIR);
    assert.equal(onDir & AccessFs.MAKE_CHAR, 0n);
    assert.equal(calls.open, 0, "every path fd is closed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("restrictSelf() grants a missing write path's parent only file creation", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { syscalls, calls } = fakeSyscalls(7);
    const status = restrictSelf({
      write: [`${dir}/state.json`],
      read: [`${dir}/absent`],
      readWrite: [`${dir}/no/such/dir`],
    }, { syscalls });
    assert.deepEqual(calls.rules, [{
      path: dir,
      access: AccessFs.MAKE_REG | AccessFs.WRITE_FILE | AccessFs.TRUNCATE,
    }]);
    assert.deepEqual(status.skipped, [
      `${dir}/absent`,
      `${dir}/no/such/dir`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("restrictSelf() gives a noFollow directory that became a symlink no rule, where a plain rule would follow it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/host`);
    await Deno.mkdir(`${dir}/rootfs`);
    makeSymlinks([[`${dir}/host`, `${dir}/link`]]);
    const { syscalls, calls } = fakeSyscalls(7);
    const status = restrictSelf({
      read: [`${dir}/rootfs`, `${dir}/link`],
      noFollow: [`${dir}/rootfs`, `${dir}/link`],
    }, { syscalls });
    assert.deepEqual(calls.rules.map((r) => r.path), [`${dir}/rootfs`]);
    assert.deepEqual(status.skipped, [`${dir}/link`]);
    const plain = fakeSyscalls(7);
    restrictSelf({ read: [`${dir}/link`] }, { syscalls: plain.syscalls });
    assert.deepEqual(plain.calls.rules.map((r) => r.path), [`${dir}/link`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("restrictSelf() sets no_new_privs before restricting", () => {
  const order: string[] = [];
  const { syscalls } = fakeSyscalls(7, {
    setNoNewPrivs: () => (order.push("nnp"), 0),
    restrictSelf: () => (order.push("restrict"), 0),
  });
  restrictSelf({ read: ["/"] }, { syscalls });
  assert.deepEqual(order, ["nnp", "restrict"]);
});

Deno.test("restrictSelf() on ABI 8 confines all threads with TSYNC", () => {
  const { syscalls, calls } = fakeSyscalls(8);
  const status = restrictSelf({ read: ["/"] }, { syscalls });
  assert.equal(status.allThreads, true);
  assert.deepEqual(calls.restrictFlags, [1 << 3]);
});

Deno.test("restrictSelf() below ABI 8 reports that only the calling thread is confined", () => {
  const { syscalls, calls } = fakeSyscalls(7);
  const status = restrictSelf({ read: ["/"] }, { syscalls });
  assert.equal(status.allThreads, false);
  assert.deepEqual(calls.restrictFlags, [0]);
});

Deno.test("restrictSelf() fails with a RuntimeError naming the path when a rule is refused", () => {
  const { syscalls } = fakeSyscalls(7, { addRule: () => -22 });
  assert.throws(
    () => restrictSelf({ read: ["/"] }, { syscalls }),
    (error: unknown) =>
      error instanceof RuntimeError &&
      error.message === "cannot add landlock rule for /: EINVAL",
  );
});

Deno.test("restrictSelf() rejects an empty path", () => {
  const { syscalls } = fakeSyscalls(7);
  assert.throws(() => restrictSelf({ read: [""] }, { syscalls }), TypeError);
});
