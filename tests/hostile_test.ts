/**
 * Hostile and broken input, black-box through the CLI: every case fails with
 * exactly one line `remoteproc-runtime: <message>` and exit code 1, and
 * leaves nothing behind (no container directory, claim, stored firmware or
 * proxy; no write reached the processor).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type BundleOptions,
  type Env,
  LAUNCHER,
  RUNTIME_BIN,
  setUp,
} from "./helpers/harness.ts";
import { assertClean, pool, sha256 } from "./helpers/inspect.ts";
import { makeElf } from "../fixtures/make_elf.ts";
import { makeSymlinks } from "../sim/symlinks.ts";
import { fill, mountTmpfs, unmount } from "./helpers/mounts.ts";

/** One hostile input. */
interface Case {
  /** What is wrong. */
  name: string;
  /** A bundle to create from (with `create -b <bundle> <id>`). */
  bundle?: BundleOptions;
  /** Changes the bundle after it is made. */
  prepare?: (bundle: string, env: Env) => void;
  /**
   * Arguments instead of a create (`{bundle}` is replaced by a valid one,
   * `{tmp}` by the environment's temp directory).
   */
  args?: string[];
  /** The message after `remoteproc-runtime: `; may use the bundle path. */
  error: string | ((bundle: string, tmp: string) => string);
  /** Undoes what `prepare` did outside the temp directory (mounts). */
  teardown?: (tmp: string) => void;
}

const M4 = { "remoteproc.name": "m4" };
const AVAILABLE = "(available: m4 (remoteproc0))";
const HOST_SECRET = "/etc/hostname";

function raw(text: string): BundleOptions {
  return { config: text };
}

function config(fields: Record<string, unknown>): BundleOptions {
  return { config: fields };
}

function firmwareArg(arg: unknown, extra: BundleOptions = {}): BundleOptions {
  return {
    ...extra,
    config: { process: { args: [arg], cwd: "/", terminal: false } },
  };
}

function annotations(values: Record<string, string>): BundleOptions {
  return { annotations: values };
}

function mknod(path: string): void {
  const made = new Deno.Command("/usr/bin/mknod", {
    args: [path, "c", "1", "3"],
    stderr: "null",
  }).outputSync();
  assert.ok(made.success, "mknod (the tests run as root)");
}

function mkfifo(path: string): void {
  const made = new Deno.Command("/usr/bin/mkfifo", { args: [path] })
    .outputSync();
  assert.ok(made.success, "mkfifo");
}

const SHA_OF_OTHER = "ab".repeat(32);

/** An id that passes runc's rules but is too long for a file name. */
const LONG_ID = "x".repeat(256);
const LONGEST_ID = "y".repeat(1024);
const COMMA =
  "a path with a comma cannot be allowed in sysroot mode (Deno's --allow-write list is comma-separated)";

const CASES: Case[] = [
  // config.json itself
  {
    name: "no config.json",
    prepare: (b) => Deno.removeSync(join(b, "config.json")),
    error: (b) => `cannot read config.json: no such file in bundle ${b}`,
  },
  {
    name: "config.json is a directory",
    prepare: (b) => {
      Deno.removeSync(join(b, "config.json"));
      Deno.mkdirSync(join(b, "config.json"));
    },
    error: (b) => `cannot read config.json: ${b}/config.json is not a file`,
  },
  {
    name: "config.json is a FIFO",
    prepare: (b) => {
      Deno.removeSync(join(b, "config.json"));
      mkfifo(join(b, "config.json"));
    },
    error: (b) => `cannot read config.json: ${b}/config.json is not a file`,
  },
  {
    name: "empty config.json",
    bundle: raw(""),
    error: "cannot parse config.json: Unexpected end of JSON input",
  },
  {
    name: "truncated JSON",
    bundle: raw('{"ociVersion": "1.0.2", "process": {'),
    error:
      "cannot parse config.json: Expected property name or '}' in JSON at position 36 (line 1 column 37)",
  },
  {
    name: "JSON with a trailing comma",
    bundle: raw('{"ociVersion": "1.0.2",}'),
    error:
      "cannot parse config.json: Expected double-quoted property name in JSON at position 23 (line 1 column 24)",
  },
  {
    name: "JSON null",
    bundle: raw("null"),
    error:
      "cannot parse config.json: (top level): Invalid input: expected object, received null",
  },
  {
    name: "JSON array",
    bundle: raw("[]"),
    error:
      "cannot parse config.json: (top level): Invalid input: expected object, received array",
  },
  {
    name: "config larger than 4 MiB",
    bundle: raw(`{"pad":"${"x".repeat(4 * 1024 * 1024)}"}`),
    error:
      "cannot read config.json: 4194314 bytes is more than the limit of 4194304",
  },
  {
    name: "ociVersion 2.0.0",
    bundle: config({ ociVersion: "2.0.0" }),
    error:
      'cannot parse config.json: ociVersion: unsupported ociVersion "2.0.0": this runtime implements OCI runtime spec 1.x',
  },
  {
    name: "ociVersion a number",
    bundle: config({ ociVersion: 1 }),
    error:
      "cannot parse config.json: ociVersion: Invalid input: expected string, received number",
  },
  {
    name: "no ociVersion",
    bundle: raw(
      '{"process":{"args":["fw.elf"]},"root":{"path":"rootfs"},"annotations":{"remoteproc.name":"m4"}}',
    ),
    error:
      "cannot parse config.json: ociVersion: Invalid input: expected string, received undefined",
  },
  {
    name: "no process",
    bundle: raw(
      '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"annotations":{"remoteproc.name":"m4"}}',
    ),
    error:
      "cannot parse config.json: process: Invalid input: expected object, received undefined",
  },
  {
    name: "process a string",
    bundle: config({ process: "fw.elf" }),
    error:
      "cannot parse config.json: process: Invalid input: expected object, received string",
  },
  {
    name: "no process.args",
    bundle: config({ process: { cwd: "/" } }),
    error:
      "cannot parse config.json: process.args: Invalid input: expected array, received undefined",
  },
  {
    name: "process.args empty",
    bundle: config({ process: { args: [] } }),
    error:
      "cannot parse config.json: process.args: must have exactly 1 element, the firmware file, not 0",
  },
  {
    name: "process.args with two elements",
    bundle: config({ process: { args: ["fw.elf", "--verbose"] } }),
    error:
      "cannot parse config.json: process.args: must have exactly 1 element, the firmware file, not 2",
  },
  {
    name: "process.args[0] a number",
    bundle: firmwareArg(7),
    error:
      "cannot parse config.json: process.args.0: Invalid input: expected string, received number",
  },
  {
    name: "process.terminal true",
    bundle: config({ process: { args: ["fw.elf"], terminal: true } }),
    error:
      "a remote processor has no terminal: process.terminal must be false (run without -t)",
  },
  {
    name: "process.cwd an object",
    bundle: config({ process: { args: ["fw.elf"], cwd: {} } }),
    error:
      "cannot parse config.json: process.cwd: Invalid input: expected string, received object",
  },
  {
    name: "no root",
    bundle: raw(
      '{"ociVersion":"1.0.2","process":{"args":["fw.elf"]},"annotations":{"remoteproc.name":"m4"}}',
    ),
    error:
      "cannot parse config.json: root: Invalid input: expected object, received undefined",
  },
  {
    name: "root.path empty",
    bundle: config({ root: { path: "" } }),
    error:
      "cannot parse config.json: root.path: Too small: expected string to have >=1 characters",
  },
  // the firmware path
  {
    name: "process.args[0] empty",
    bundle: firmwareArg(""),
    error: "process.args[0] is empty: name the firmware file",
  },
  {
    name: "process.args[0] climbing out with ..",
    bundle: firmwareArg(`../../../../../../..${HOST_SECRET}`),
    error:
      `firmware file "../../../../../../..${HOST_SECRET}" does not exist in the rootfs`,
  },
  {
    name: "process.args[0] an absolute host path",
    bundle: firmwareArg(HOST_SECRET),
    error: `firmware file "${HOST_SECRET}" does not exist in the rootfs`,
  },
  {
    name: "process.cwd climbing out with ..",
    bundle: {
      config: {
        process: { args: ["hostname"], cwd: "/../../../../../../etc" },
      },
    },
    error: 'firmware file "hostname" does not exist in the rootfs',
  },
  {
    name: "process.args[0] with a NUL",
    bundle: firmwareArg("fw.elf\u0000.txt"),
    error: 'process.args[0] contains a control character: "fw.elf\\u0000.txt"',
  },
  {
    name: "process.args[0] with a newline",
    bundle: firmwareArg("fw.elf\nrm -rf /"),
    error: 'process.args[0] contains a control character: "fw.elf\\nrm -rf /"',
  },
  {
    name: "firmware is a directory",
    bundle: firmwareArg("lib", { files: { "lib/x": "x" } }),
    error: 'firmware file "lib" is a directory, not a regular file',
  },
  {
    name: "firmware is a FIFO",
    bundle: firmwareArg("fifo"),
    prepare: (b) => mkfifo(join(b, "rootfs/fifo")),
    error: 'firmware file "fifo" is a FIFO, not a regular file',
  },
  {
    name: "firmware is a device node",
    bundle: firmwareArg("null"),
    prepare: (b) => mknod(join(b, "rootfs/null")),
    error: 'firmware file "null" is a device node, not a regular file',
  },
  {
    name: "firmware does not exist",
    bundle: firmwareArg("missing.elf"),
    error: 'firmware file "missing.elf" does not exist in the rootfs',
  },
  {
    name: "symlink loop",
    bundle: firmwareArg("a", { symlinks: { a: "b", b: "a" } }),
    error: 'firmware file "a": too many levels of symbolic links',
  },
  {
    name: "symlink to itself",
    bundle: firmwareArg("self", { symlinks: { self: "./self" } }),
    error: 'firmware file "self": too many levels of symbolic links',
  },
  {
    name: "absolute symlink to a host file",
    bundle: firmwareArg("fw", { symlinks: { fw: HOST_SECRET } }),
    error: 'firmware file "fw" does not exist in the rootfs',
  },
  {
    name: "relative symlink out of the rootfs",
    bundle: firmwareArg("fw", {
      symlinks: { fw: `../../../../../../../..${HOST_SECRET}` },
    }),
    error: 'firmware file "fw" does not exist in the rootfs',
  },
  {
    name: "symlinked directory leading out of the rootfs",
    bundle: firmwareArg("host/hostname", { symlinks: { host: "/../../etc" } }),
    error: 'firmware file "host/hostname" does not exist in the rootfs',
  },
  {
    name: "rootfs is a symlink",
    prepare: (b) => {
      Deno.renameSync(join(b, "rootfs"), join(b, "real"));
      makeSymlinks([["real", join(b, "rootfs")]]);
    },
    error: (b) =>
      `root.path ${b}/rootfs is a symlink: give the directory itself`,
  },
  {
    name: "rootfs missing",
    prepare: (b) => Deno.removeSync(join(b, "rootfs"), { recursive: true }),
    error: (b) => `root.path ${b}/rootfs does not exist`,
  },
  {
    name: "rootfs a file",
    prepare: (b) => {
      Deno.removeSync(join(b, "rootfs"), { recursive: true });
      Deno.writeTextFileSync(join(b, "rootfs"), "");
    },
    error: (b) => `root.path ${b}/rootfs is not a directory`,
  },
  // annotations
  {
    name: "no remoteproc.name",
    bundle: annotations({}),
    error:
      "annotation remoteproc.name is required (or REMOTEPROC_NAME in process.env): it names the processor to deploy to (looked at annotation remoteproc.name and REMOTEPROC_NAME in process.env; available: m4 (remoteproc0))",
  },
  {
    name: "remoteproc.name with a newline",
    bundle: annotations({ "remoteproc.name": "m4\nstart" }),
    error: 'annotation remoteproc.name is not a processor name: "m4\\nstart"',
  },
  {
    name: "remoteproc.name with a path",
    bundle: annotations({ "remoteproc.name": "../remoteproc0" }),
    error:
      'annotation remoteproc.name is not a processor name: "../remoteproc0"',
  },
  {
    name: "remoteproc.name with a slash inside",
    bundle: annotations({ "remoteproc.name": "remoteproc0/../remoteproc0" }),
    error:
      'annotation remoteproc.name is not a processor name: "remoteproc0/../remoteproc0"',
  },
  {
    name: "remoteproc.name with a NUL",
    bundle: annotations({ "remoteproc.name": "m4\u0000" }),
    error: 'annotation remoteproc.name is not a processor name: "m4\\u0000"',
  },
  {
    name: "remoteproc.name empty",
    bundle: annotations({ "remoteproc.name": "" }),
    error: 'annotation remoteproc.name is not a processor name: ""',
  },
  {
    name: "remoteproc.name of no processor",
    bundle: annotations({ "remoteproc.name": "dsp" }),
    error: `no remote processor named "dsp" ${AVAILABLE}`,
  },
  {
    name: "remoteproc.name a number",
    bundle: config({ annotations: { "remoteproc.name": 0 } }),
    error:
      "cannot parse config.json: annotations.remoteproc.name: Invalid input: expected string, received number",
  },
  {
    name: "annotations an array",
    bundle: config({ annotations: ["remoteproc.name=m4"] }),
    error:
      "cannot parse config.json: annotations: Invalid input: expected record, received array",
  },
  {
    name: "remoteproc.plugin naming no plugin",
    bundle: annotations({ ...M4, "remoteproc.plugin": "../../evil" }),
    error:
      'annotation remoteproc.plugin names no plugin: "../../evil" (available: imx, stm32mp, ti-k3, generic)',
  },
  {
    name: "remoteproc.firmware-sha256 not a digest",
    bundle: annotations({ ...M4, "remoteproc.firmware-sha256": "abc\n" }),
    error:
      'annotation remoteproc.firmware-sha256 is not a sha-256 digest (64 hex digits): "abc\\n"',
  },
  {
    name: "remoteproc.firmware-sha256 of another image",
    bundle: annotations({ ...M4, "remoteproc.firmware-sha256": SHA_OF_OTHER }),
    error:
      `firmware file "fw.elf" does not match remoteproc.firmware-sha256: expected sha256 ${SHA_OF_OTHER}, got ${await sha256(
        makeElf(),
      )}`,
  },
  // the command line
  {
    name: "create without an id",
    args: ["create", "-b", "{bundle}"],
    error: "create: container id cannot be empty",
  },
  {
    name: "id with a path",
    args: ["create", "-b", "{bundle}", "../escape"],
    error: 'invalid container id format: "../escape"',
  },
  {
    name: "id ..",
    args: ["create", "-b", "{bundle}", ".."],
    error: 'invalid container id format: ".."',
  },
  {
    name: "id with a slash",
    args: ["state", "a/b"],
    error: 'invalid container id format: "a/b"',
  },
  {
    name: "id with a newline",
    args: ["create", "-b", "{bundle}", "c\n1"],
    error: 'invalid container id format: "c\\n1"',
  },
  {
    // (a NUL cannot be passed in argv at all: execve ends the string there)
    name: "id with a space",
    args: ["delete", "--force", "c 1"],
    error: 'invalid container id format: "c 1"',
  },
  {
    name: "id too long",
    args: ["kill", "x".repeat(1025)],
    error: `invalid container id format: "${"x".repeat(1025)}"`,
  },
  {
    name: "id of 256 characters at create",
    args: ["create", "-b", "{bundle}", LONG_ID],
    error:
      `invalid container id format: "${LONG_ID}" is longer than 255 characters`,
  },
  {
    name: "id of 1024 characters at create",
    args: ["create", "-b", "{bundle}", LONGEST_ID],
    error:
      `invalid container id format: "${LONGEST_ID}" is longer than 255 characters`,
  },
  {
    name: "state of an id too long for a file name",
    args: ["state", LONG_ID],
    error: "container does not exist",
  },
  {
    name: "start of an id too long for a file name",
    args: ["start", LONGEST_ID],
    error: "container does not exist",
  },
  {
    name: "kill of an id too long for a file name",
    args: ["kill", LONG_ID, "KILL"],
    error: "container does not exist",
  },
  {
    name: "two ids",
    args: ["create", "-b", "{bundle}", "c1", "c2"],
    error: 'create: unexpected argument "c2"',
  },
  {
    name: "unknown verb flag",
    args: ["create", "--privileged", "-b", "{bundle}", "c1"],
    error: "create: unknown flag --privileged",
  },
  {
    name: "unknown global flag",
    args: ["--bogus", "state", "c1"],
    error: "unknown flag --bogus (see --help)",
  },
  {
    name: "global flag without its value",
    args: ["--log"],
    error: "flag --log needs a value",
  },
  {
    name: "verb flag without its value",
    args: ["create", "c1", "--bundle"],
    error: "create: flag --bundle needs a value",
  },
  {
    name: "unknown verb",
    args: ["exec", "c1"],
    error: 'unknown command "exec" (see --help)',
  },
  {
    name: "empty --root",
    args: ["--root=", "state", "c1"],
    error: "--root is empty",
  },
  {
    name: "--root is a regular file (create)",
    prepare: (_, env) => Deno.writeTextFileSync(join(env.tmp, "root-file"), ""),
    args: ["--root", "{tmp}/root-file", "create", "-b", "{bundle}", "rf1"],
    error: (_, tmp) => `state root ${tmp}/root-file is not a directory`,
  },
  {
    name: "--root is a regular file (list)",
    prepare: (_, env) =>
      Deno.writeTextFileSync(join(env.tmp, "root-file2"), ""),
    args: ["--root={tmp}/root-file2", "list"],
    error: (_, tmp) => `state root ${tmp}/root-file2 is not a directory`,
  },
  {
    name: "--root below a regular file",
    prepare: (_, env) =>
      Deno.writeTextFileSync(join(env.tmp, "root-file3"), ""),
    args: [
      "--root",
      "{tmp}/root-file3/state",
      "create",
      "-b",
      "{bundle}",
      "rf3",
    ],
    error: (_, tmp) =>
      `state root ${tmp}/root-file3/state cannot be made: ${tmp}/root-file3 is not a directory`,
  },
  {
    name: "--root is /dev/null (state)",
    args: ["--root", "/dev/null", "state", "c1"],
    error: "state root /dev/null is not a directory",
  },
  {
    name: "--root is /dev/null (create)",
    args: ["--root", "/dev/null", "create", "-b", "{bundle}", "dn1"],
    error: "state root /dev/null is not a directory",
  },
  {
    name: "--root is /dev/null (delete --force)",
    args: ["--root", "/dev/null", "delete", "--force", "c1"],
    error: "state root /dev/null is not a directory",
  },
  {
    name: "--root is /dev/null (start)",
    args: ["--root", "/dev/null", "start", "c1"],
    error: "state root /dev/null is not a directory",
  },
  {
    name: "comma in --root",
    args: ["--root", "{tmp}/a,b", "list"],
    error: (_, tmp) => `--root ${tmp}/a,b: ${COMMA}`,
  },
  {
    name: "comma in --root=",
    args: ["--root={tmp}/a,", "state", "c1"],
    error: (_, tmp) => `--root ${tmp}/a,: ${COMMA}`,
  },
  {
    name: "comma in --log",
    args: ["--log", "{tmp}/log,1", "list"],
    error: (_, tmp) => `--log ${tmp}/log,1: ${COMMA}`,
  },
  {
    name: "comma in --pid-file",
    args: ["create", "--pid-file", "{tmp}/pid,1", "-b", "{bundle}", "pf1"],
    error: (_, tmp) => `--pid-file ${tmp}/pid,1: ${COMMA}`,
  },
  {
    name: "comma in --pid-file=",
    args: ["create", "--pid-file={tmp}/pid,/etc", "-b", "{bundle}", "pf2"],
    error: (_, tmp) => `--pid-file ${tmp}/pid,/etc: ${COMMA}`,
  },
  {
    name: "comma in --sysroot",
    args: ["--sysroot", "{tmp}/sys,root", "list"],
    error: (_, tmp) => `--sysroot ${tmp}/sys,root: ${COMMA}`,
  },
  {
    name: "read-only state root",
    prepare: (_, env) =>
      mountTmpfs(join(env.tmp, "ro-root"), { readOnly: true }),
    args: ["--root", "{tmp}/ro-root", "create", "-b", "{bundle}", "ro1"],
    error: (_, tmp) =>
      `cannot create directory ${tmp}/ro-root/containers: read-only file system`,
    teardown: (tmp) => unmount(join(tmp, "ro-root")),
  },
  {
    name: "state root to be made on a read-only file system",
    prepare: (_, env) =>
      mountTmpfs(join(env.tmp, "ro-root2"), { readOnly: true }),
    args: ["--root", "{tmp}/ro-root2/state", "create", "-b", "{bundle}", "ro2"],
    error: (_, tmp) =>
      `cannot create directory ${tmp}/ro-root2/state: read-only file system`,
    teardown: (tmp) => unmount(join(tmp, "ro-root2")),
  },
  {
    name: "full state root",
    prepare: (_, env) => {
      const root = join(env.tmp, "full-root");
      mountTmpfs(root, { sizeKiB: 64 });
      Deno.mkdirSync(join(root, "containers"));
      fill(root);
    },
    args: ["--root", "{tmp}/full-root", "create", "-b", "{bundle}", "full1"],
    error: (_, tmp) =>
      `cannot write ${tmp}/full-root/containers/full1/state.json: no space left on device`,
    teardown: (tmp) => unmount(join(tmp, "full-root")),
  },
  {
    name: "bad --log-format",
    args: ["--log-format", "xml", "state", "c1"],
    error: '--log-format must be text or json, not "xml"',
  },
  {
    name: "unknown signal",
    args: ["kill", "c1", "BOGUS"],
    error: 'unknown signal "BOGUS"',
  },
  {
    name: "signal a processor cannot honour",
    args: ["kill", "c1", "USR1"],
    error:
      "signal USR1 is not supported: a remote processor can be stopped (TERM, INT) or killed (KILL)",
  },
  {
    name: "signal number out of range",
    args: ["kill", "c1", "65"],
    error: 'unknown signal "65"',
  },
  {
    name: "negative signal",
    args: ["kill", "c1", "--", "-9"],
    error: 'unknown signal "-9"',
  },
  {
    name: "console socket (-t)",
    args: ["create", "--console-socket", "/tmp/sock", "-b", "{bundle}", "c1"],
    error:
      "a remote processor has no terminal: --console-socket is not supported (run without -t)",
  },
  {
    name: "start of no container",
    args: ["start", "nothing"],
    error: "container does not exist",
  },
  {
    name: "kill of no container",
    args: ["kill", "nothing", "KILL"],
    error: "container does not exist",
  },
];

/**
 * The cases for the runtime under test: a comma in a path is refused by the
 * launcher (its Deno permission flags), which a compiled binary (or its
 * stand-in, `REMOTEPROC_RUNTIME_BIN`) does not have.
 */
const RUN_CASES = RUNTIME_BIN === LAUNCHER
  ? CASES
  : CASES.filter((c) => !c.name.startsWith("comma in "));

Deno.test(`a corpus of ${RUN_CASES.length} hostile bundles and arguments fails with one exact line each and leaves nothing behind`, async (t) => {
  assert.ok(CASES.length >= 40);
  await using env = await setUp();
  try {
    const outcomes = await pool(RUN_CASES, 4, async (c, i) => {
      const bundle = env.bundle(c.bundle ?? {});
      c.prepare?.(bundle, env);
      const args = c.args
        ? c.args.map((a) =>
          a === "{bundle}" ? bundle : a.replaceAll("{tmp}", env.tmp)
        )
        : ["create", "-b", bundle, `hostile${i}`];
      return { bundle, result: await env.run(args) };
    });
    for (const [i, c] of RUN_CASES.entries()) {
      await t.step(c.name, () => {
        const { bundle, result } = outcomes[i]!;
        const message = typeof c.error === "string"
          ? c.error
          : c.error(bundle, env.tmp);
        assert.equal(result.stderr, `remoteproc-runtime: ${message}\n`);
        assert.equal(result.code, 1);
        assert.equal(result.stdout, "");
      });
    }
    await assertClean(env, "after the corpus");
    assert.deepEqual(env.sim.events, [], "no write reached a processor");
    assert.deepEqual(env.sim.violations, []);
    assert.deepEqual(
      [...Deno.readDirSync(join(env.tmp, "full-root/containers"))],
      [],
      "nothing left in the full state root",
    );
  } finally {
    for (const c of RUN_CASES) c.teardown?.(env.tmp);
  }
});

Deno.test("a symlink inside the rootfs is followed within it: an absolute link to /fw.elf is the rootfs file", async () => {
  await using env = await setUp();
  const bundle = env.bundle(
    firmwareArg("boot/current", {
      files: { "fw.elf": makeElf() },
      symlinks: { boot: "/../../..", "current": "/fw.elf" },
    }),
  );
  const created = await env.run(["create", "-b", bundle, "c1"]);
  assert.equal(created.stderr, "");
  assert.equal(created.code, 0);
  assert.equal((await env.run(["start", "c1"])).code, 0);
  assert.equal(env.sim.state(0), "running");
});

/** A change made between `create` and `start`, which `start` must refuse. */
interface StartCase {
  /** What changed. */
  name: string;
  /** The bundle to create from (default: `fw.elf`, a valid ELF). */
  bundle?: BundleOptions;
  /** Changes the bundle after create; `host` holds a valid `fw.elf`. */
  change: (bundle: string, host: string) => void;
  /** The message after `remoteproc-runtime: `. */
  error: (bundle: string, host: string) => string;
}

/** Moves `path` aside and puts a symlink to `target` in its place. */
function replaceWithLink(path: string, target: string): void {
  Deno.renameSync(path, `${path}.real`);
  makeSymlinks([[target, path]]);
}

const NOT_REGULAR =
  "firmware file /fw.elf is no longer a regular file in the rootfs";

const START_CASES: StartCase[] = [
  {
    name: "rootfs replaced by a symlink to a host directory",
    change: (b, host) => replaceWithLink(join(b, "rootfs"), host),
    error: (b) =>
      `root.path ${b}/rootfs changed since create: it is now a symlink`,
  },
  {
    name: "rootfs replaced by a relative symlink to a copy of itself",
    change: (b) => {
      Deno.renameSync(join(b, "rootfs"), join(b, "copy"));
      makeSymlinks([["copy", join(b, "rootfs")]]);
    },
    error: (b) =>
      `root.path ${b}/rootfs changed since create: it is now a symlink`,
  },
  {
    name: "rootfs replaced by another directory",
    change: (b) => {
      Deno.renameSync(join(b, "rootfs"), join(b, "old"));
      Deno.mkdirSync(join(b, "rootfs"));
      Deno.writeFileSync(join(b, "rootfs/fw.elf"), makeElf());
    },
    error: (b) =>
      `root.path ${b}/rootfs changed since create: it is another directory`,
  },
  {
    name: "rootfs removed",
    change: (b) => Deno.removeSync(join(b, "rootfs"), { recursive: true }),
    error: (b) =>
      `root.path ${b}/rootfs changed since create: it no longer exists`,
  },
  {
    name: "rootfs replaced by a file",
    change: (b) => {
      Deno.removeSync(join(b, "rootfs"), { recursive: true });
      Deno.writeFileSync(join(b, "rootfs"), makeElf());
    },
    error: (b) =>
      `root.path ${b}/rootfs changed since create: it is no longer a directory`,
  },
  {
    name: "firmware replaced by an absolute symlink to a host file",
    change: (b, host) =>
      replaceWithLink(join(b, "rootfs/fw.elf"), join(host, "fw.elf")),
    error: () => NOT_REGULAR,
  },
  {
    name: "firmware replaced by a relative symlink out of the rootfs",
    change: (b, host) =>
      replaceWithLink(
        join(b, "rootfs/fw.elf"),
        `../../../../../../../../..${host}/fw.elf`,
      ),
    error: () => NOT_REGULAR,
  },
  {
    name:
      "a directory on the firmware path replaced by a symlink to a host directory",
    bundle: firmwareArg("lib/fw.elf", { files: { "lib/fw.elf": makeElf() } }),
    change: (b, host) => replaceWithLink(join(b, "rootfs/lib"), host),
    error: () =>
      "firmware file /lib/fw.elf is no longer a regular file in the rootfs",
  },
  {
    name: "firmware replaced by a FIFO",
    change: (b) => {
      Deno.removeSync(join(b, "rootfs/fw.elf"));
      mkfifo(join(b, "rootfs/fw.elf"));
    },
    error: () => NOT_REGULAR,
  },
  {
    name: "firmware replaced by a directory",
    change: (b) => {
      Deno.removeSync(join(b, "rootfs/fw.elf"));
      Deno.mkdirSync(join(b, "rootfs/fw.elf"));
    },
    error: () => NOT_REGULAR,
  },
  {
    name: "firmware replaced by a device node",
    change: (b) => {
      Deno.removeSync(join(b, "rootfs/fw.elf"));
      mknod(join(b, "rootfs/fw.elf"));
    },
    error: () => NOT_REGULAR,
  },
  {
    name:
      "firmware rewritten as something that is not ELF (the stored copy is checked)",
    change: (b) =>
      Deno.writeTextFileSync(
        join(b, "rootfs/fw.elf"),
        `#!/bin/sh\n${"# a shell script, not firmware\n".repeat(4)}id\n`,
      ),
    error: () => "firmware /fw.elf: is not an ELF image (bad magic)",
  },
  {
    name: "firmware grown past the limit",
    change: (b) =>
      Deno.truncateSync(join(b, "rootfs/fw.elf"), 256 * 1024 * 1024 + 1),
    error: () =>
      "firmware /fw.elf: 268435457 bytes is more than the limit of 268435456",
  },
];

Deno.test(`a corpus of ${START_CASES.length} changes between create and start: start refuses each with one exact line, before any firmware reaches a processor`, async (t) => {
  const processors = START_CASES.map((_, i) => ({ name: `p${i}` }));
  await using env = await setUp(processors);
  const host = join(env.tmp, "host");
  Deno.mkdirSync(host);
  Deno.writeFileSync(join(host, "fw.elf"), makeElf());
  const outcomes = await pool(START_CASES, 4, async (c, i) => {
    const options = c.bundle ?? {};
    const bundle = env.bundle({
      ...options,
      annotations: { "remoteproc.name": `p${i}` },
    });
    const created = await env.run(["create", "-b", bundle, `late${i}`]);
    assert.equal(created.code, 0, `${c.name}: ${created.stderr}`);
    c.change(bundle, host);
    return { bundle, result: await env.run(["start", `late${i}`]) };
  });
  for (const [i, c] of START_CASES.entries()) {
    await t.step(c.name, () => {
      const { bundle, result } = outcomes[i]!;
      assert.equal(
        result.stderr,
        `remoteproc-runtime: ${c.error(bundle, host)}\n`,
      );
      assert.equal(result.code, 1);
      assert.equal(result.stdout, "");
      assert.equal(env.sim.state(i), "offline");
      assert.equal(env.sim.firmware(i), `rproc-p${i}-fw`, "no name written");
    });
  }
  assert.deepEqual(env.storedFirmware(), [], "no copy left behind");
  assert.deepEqual(env.sim.events, [], "no processor ever started");
  await pool(START_CASES, 4, async (_, i) => {
    const deleted = await env.run(["delete", "--force", `late${i}`]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stderr, "");
  });
  await assertClean(env, "after the start corpus", processors.length);
  assert.deepEqual(env.sim.violations, []);
});

Deno.test("an image's mode bits never reach the firmware directory: setuid and world-writable images are stored 0644, owned by the runtime", async (t) => {
  await using env = await setUp();
  for (const mode of [0o4755, 0o6777, 0o666]) {
    await t.step(`image mode ${mode.toString(8)}`, async () => {
      const bundle = env.bundle();
      Deno.chmodSync(join(bundle, "rootfs/fw.elf"), mode);
      assert.equal(
        Deno.statSync(join(bundle, "rootfs/fw.elf")).mode! & 0o7777,
        mode,
      );
      assert.equal((await env.run(["create", "-b", bundle, "c1"])).code, 0);
      const started = await env.run(["start", "c1"]);
      assert.equal(started.code, 0, started.stderr);
      const [stored] = env.storedFirmware();
      const info = Deno.statSync(join(env.sysroot, "lib/firmware", stored!));
      assert.equal((info.mode! & 0o7777).toString(8), "644");
      assert.equal(info.uid, Deno.uid());
      assert.equal(info.gid, Deno.gid());
      const deleted = await env.run(["delete", "--force", "c1"]);
      assert.equal(deleted.code, 0, deleted.stderr);
    });
  }
  await assertClean(env, "after deploying odd modes");
});
