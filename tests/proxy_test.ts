/**
 * The proxy as an engine sees it: the exit status its subreaper collects
 * (conmon and containerd's shim reap it once `create` has exited), and the
 * descriptors it holds, which must be stdio and its lock only, plus what
 * `--preserve-fds` passes on.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Env, LAUNCHER, RUNTIME_BIN, setUp } from "./helpers/harness.ts";
import { descriptors, proxies } from "./helpers/inspect.ts";
import { runReaped } from "./helpers/reaper.ts";
import { cliWithoutFfi } from "./helpers/no_ffi.ts";
import { EXIT } from "../core/proxy/protocol.ts";

/** How each scenario ends the container, and the status it must end with. */
const ENDINGS: {
  what: string;
  processor: string;
  code: number;
  end(env: Env, id: string, n: number): Promise<void> | void;
  started?: false;
}[] = [
  {
    what: "someone else stops the processor",
    processor: "a",
    code: EXIT.stoppedExternally,
    end: (env, _id, n) => env.sim.stopExternally(n),
  },
  {
    what: "the processor crashes with recovery disabled",
    processor: "b",
    code: EXIT.crashed,
    end: (env, _id, n) => env.sim.crash(n),
  },
  {
    what: "the processor leaves running for another state",
    processor: "c",
    code: EXIT.lost,
    end: (env, _id, n) =>
      Deno.writeTextFileSync(join(env.sim.classDir(n), "state"), "deleted"),
  },
  {
    what: "kill TERM",
    processor: "d",
    code: EXIT.term,
    end: (env, id) => killed(env, id, "TERM"),
  },
  {
    what: "kill INT",
    processor: "e",
    code: EXIT.int,
    end: (env, id) => killed(env, id, "INT"),
  },
  {
    what: "kill KILL",
    processor: "f",
    code: 128 + 9,
    end: (env, id) => killed(env, id, "KILL"),
  },
  {
    what: "kill TERM before start",
    processor: "g",
    code: EXIT.term,
    end: (env, id) => killed(env, id, "TERM"),
    started: false,
  },
];

async function killed(env: Env, id: string, signal: string): Promise<void> {
  const result = await env.run(["kill", id, signal]);
  assert.equal(result.code, 0, result.stderr);
}

Deno.test("the proxy's exit status, as the engine's subreaper collects it: 0 stopped elsewhere, 2 crashed, 3 lost, 143 TERM, 130 INT, 137 KILL", async () => {
  await using env = await setUp(
    ENDINGS.map((e) => ({
      name: e.processor,
      ...(e.code === EXIT.crashed ? { recovery: "disabled" as const } : {}),
    })),
  );
  const results = await Promise.all(ENDINGS.map(async (ending, n) => {
    const id = `c${n}`;
    const bundle = env.bundle({
      annotations: { "remoteproc.name": ending.processor },
    });
    const run = runReaped(env, ["create", "--bundle", bundle, id]);
    assert.equal(await run.command, 0, run.output().stderr);
    if (ending.started !== false) {
      const started = await env.run(["start", id]);
      assert.equal(started.code, 0, started.stderr);
    }
    await ending.end(env, id, n);
    const orphans = await run.orphans;
    const deleted = await env.run(["delete", "--force", id]);
    assert.equal(deleted.code, 0, deleted.stderr);
    return { what: ending.what, orphans, output: run.output().stdout };
  }));
  for (const [n, { what, orphans, output }] of results.entries()) {
    assert.equal(orphans.length, 1, `${what}: one proxy reaped: ${output}`);
    assert.equal(orphans[0]!.code, ENDINGS[n]!.code, `${what}: ${output}`);
  }
});

Deno.test("a proxy whose start is refused exits 1 after it reported why", async () => {
  await using env = await setUp([{ name: "m4", refuseStart: "EIO" }]);
  const run = runReaped(env, ["create", "--bundle", env.bundle(), "c1"]);
  assert.equal(await run.command, 0, run.output().stderr);
  const started = await env.run(["start", "c1"]);
  assert.equal(started.code, 1);
  assert.deepEqual(
    (await run.orphans).map((o) => o.code),
    [EXIT.failed],
  );
});

/**
 * Runs `create` from a shell that first opens `redirect` (e.g.
 * `7>FILE`), as an engine hands the runtime its pipes.
 */
async function createWith(
  env: Env,
  id: string,
  redirect: string,
  extraArgs: string[] = [],
  bundle = env.bundle(),
): Promise<{ code: number; stderr: string }> {
  const err = join(env.tmp, `${id}.err`);
  const status = await new Deno.Command("/bin/sh", {
    args: [
      "-c",
      `err=$1; shift; exec ${redirect}; exec "$@" >/dev/null 2>"$err"`,
      "sh",
      err,
      RUNTIME_BIN,
      "create",
      ...extraArgs,
      "--bundle",
      bundle,
      id,
    ],
    env: { REMOTEPROC_RUNTIME_SYSROOT: env.sysroot },
    cwd: env.tmp,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  return { code: status.code, stderr: Deno.readTextFileSync(err) };
}

/** The descriptors of the proxy a child would inherit, stdio aside. */
async function inheritable(env: Env, id: string) {
  const { pid } = await env.state(id);
  return descriptors(pid).filter((d) => d.fd > 2 && !d.cloexec);
}

Deno.test("the proxy does not inherit the caller's descriptors: it holds stdio and its lock only", async () => {
  await using env = await setUp();
  const extra = join(env.tmp, "extra");
  const created = await createWith(env, "c1", `7>${extra}`);
  assert.equal(created.code, 0, created.stderr);
  const { pid } = await env.state("c1");
  const fds = descriptors(pid);
  assert.deepEqual(fds.filter((d) => d.target === extra), []);
  assert.deepEqual(await inheritable(env, "c1"), []);
  // Its stdin is its lock (handed over by create, see proxy_protocol.ts).
  assert.match(fds.find((d) => d.fd === 0)?.target ?? "", /\/proxy\.lock$/);
});

Deno.test("a pod sandbox's placeholder proxy does not inherit the caller's descriptors either", async () => {
  await using env = await setUp();
  const extra = join(env.tmp, "extra");
  const sandbox = env.bundle({
    files: {},
    config: { process: { args: ["/pause"], cwd: "/", terminal: false } },
    annotations: { "io.kubernetes.cri.container-type": "sandbox" },
  });
  const created = await createWith(env, "pod1", `7>${extra}`, [], sandbox);
  assert.equal(created.code, 0, created.stderr);
  const { pid } = await env.state("pod1");
  assert.deepEqual(descriptors(pid).filter((d) => d.target === extra), []);
  assert.deepEqual(await inheritable(env, "pod1"), []);
});

Deno.test("a pipe handed to create reaches EOF when create exits, while the container lives on", async () => {
  await using env = await setUp();
  const child = new Deno.Command("/bin/sh", {
    args: [
      "-c",
      'exec "$@" 7>&1 >/dev/null 2>&1',
      "sh",
      RUNTIME_BIN,
      "create",
      "--bundle",
      env.bundle(),
      "c1",
    ],
    env: { REMOTEPROC_RUNTIME_SYSROOT: env.sysroot },
    cwd: env.tmp,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  // output() resolves on the pipe's EOF; the proxy holding it would delay
  // that until the container is gone.
  const eof = child.output().then(() => "eof");
  let timer;
  const outcome = await Promise.race([
    eof,
    new Promise((r) => timer = setTimeout(() => r("no eof"), 15_000)),
  ]);
  clearTimeout(timer);
  assert.equal(outcome, "eof");
  assert.equal((await env.state("c1")).status, "created");
  assert.equal(proxies(env).length, 1);
});

Deno.test("--preserve-fds N passes descriptors 3..3+N-1 on to the proxy, and nothing else", async () => {
  await using env = await setUp();
  const [a, b, c] = ["a", "b", "c"].map((n) => join(env.tmp, n));
  const created = await createWith(env, "c1", `3>${a} 4>${b} 5>${c}`, [
    "--preserve-fds",
    "2",
  ]);
  assert.equal(created.code, 0, created.stderr);
  assert.deepEqual(
    (await inheritable(env, "c1")).map((d) => [d.fd, d.target]),
    [[3, a], [4, b]],
  );
});

Deno.test("--preserve-fds naming a descriptor the runtime was not given fails in one line and leaves nothing", async () => {
  await using env = await setUp();
  const extra = join(env.tmp, "extra");
  const created = await createWith(env, "c1", `3>${extra}`, [
    "--preserve-fds=2",
  ]);
  assert.equal(created.code, 1);
  assert.equal(
    created.stderr,
    "remoteproc-runtime: --preserve-fds 2: descriptor 4 was not passed to the runtime\n",
  );
  const bad = await createWith(env, "c2", `3>${extra}`, [
    "--preserve-fds=-1",
  ]);
  assert.equal(bad.code, 1);
  assert.equal(
    bad.stderr,
    'remoteproc-runtime: --preserve-fds takes a number of descriptors (0-1024), not "-1"\n',
  );
  assert.deepEqual(env.containers(), []);
  assert.deepEqual(env.claims(), []);
});

Deno.test("without FFI (create spawns through Deno.Command) the proxy, and a pod sandbox's placeholder, close what they inherited before they are ready", async () => {
  await using env = await setUp();
  const extra = join(env.tmp, "extra");
  const bundles = {
    c1: env.bundle(),
    pod1: env.bundle({
      files: {},
      config: { process: { args: ["/pause"], cwd: "/", terminal: false } },
      annotations: { "io.kubernetes.cri.container-type": "sandbox" },
    }),
  };
  for (const [id, bundle] of Object.entries(bundles)) {
    const cli = cliWithoutFfi(env.sysroot, [
      "create",
      "--preserve-fds=1",
      "--bundle",
      bundle,
      id,
    ]);
    const status = await new Deno.Command("/bin/sh", {
      args: [
        "-c",
        `exec 7>${extra} 3>${extra}.kept; exec "$@" >/dev/null 2>&1`,
        "sh",
        ...cli.argv,
      ],
      env: cli.env,
      cwd: env.tmp,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    assert.equal(status.code, 0, id);
    assert.deepEqual(
      (await inheritable(env, id)).map((d) => [d.fd, d.target]),
      [[3, `${extra}.kept`]],
      id,
    );
  }
});

Deno.test({
  name:
    "a proxy program the kernel will not execute fails create in one line that names it and says why, leaving nothing",
  // REMOTEPROC_RUNTIME_STANDALONE is how the launcher's runtime is pointed
  // at another program; a compiled binary (or its stand-in) sets its own.
  ignore: RUNTIME_BIN !== LAUNCHER,
}, async () => {
  await using env = await setUp();
  const plain = join(env.tmp, "not-executable");
  Deno.writeTextFileSync(plain, "#!/bin/sh\n", { mode: 0o644 });
  Deno.chmodSync(plain, 0o644);
  // A script whose interpreter is a script: create's Landlock rules allow
  // the program and its interpreter, not the interpreter's interpreter.
  const inner = join(env.tmp, "inner");
  Deno.writeTextFileSync(inner, "#!/bin/sh\nexit 0\n");
  Deno.chmodSync(inner, 0o755);
  const outer = join(env.tmp, "outer");
  Deno.writeTextFileSync(outer, `#!${inner}\n`);
  Deno.chmodSync(outer, 0o755);
  const missing = join(env.tmp, "missing");
  const cases: [string, string][] = [
    [
      plain,
      `permission denied executing ${plain}: it is not executable (mode 0644)`,
    ],
    [
      outer,
      `permission denied executing ${outer}: the kernel refused it: a noexec mount, or outside what Landlock lets create execute (core/proxy/self.ts lists it)`,
    ],
    [missing, `${missing} does not exist`],
  ];
  for (const [program, why] of cases) {
    const result = await env.run(["create", "--bundle", env.bundle(), "c1"], {
      env: { REMOTEPROC_RUNTIME_STANDALONE: program },
    });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `remoteproc-runtime: cannot start the proxy: ${why}\n`,
    );
    assert.deepEqual(env.containers(), []);
    assert.deepEqual(env.claims(), []);
  }
});
