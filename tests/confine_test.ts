/**
 * Landlock self-confinement of the verbs, black-box: a test-only probe
 * (core/os/confinement.ts, `REMOTEPROC_RUNTIME_TEST_WRITE_PROBE`) tries to write
 * files after the verb confined itself. Every probe path is inside the
 * sysroot, which Deno's own narrow permissions allow, so an EACCES here is
 * the kernel's Landlock refusal, not Deno's.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Env, setUp } from "./helpers/harness.ts";
import { proxies } from "./helpers/inspect.ts";
import { cliWithoutFfi } from "./helpers/no_ffi.ts";
import { landlockAbi } from "../core/os/landlock.ts";
import { READ_PROBE_ENV, WRITE_PROBE_ENV } from "../core/os/confinement.ts";
import { makeSymlinks } from "../sim/symlinks.ts";

interface Probes {
  stateRoot: string;
  claims: string;
  firmware: string;
  ownDevice: string;
  otherDevice: string;
  elsewhere: string;
}

function probes(env: Env): Probes {
  const sys = join(env.sysroot, "sys/class/remoteproc");
  return {
    stateRoot: join(env.root, "probe"),
    claims: join(env.root, "claims/probe"),
    firmware: join(env.sysroot, "lib/firmware/probe"),
    ownDevice: join(sys, "remoteproc0/probe"),
    otherDevice: join(sys, "remoteproc1/firmware"),
    elsewhere: join(env.sysroot, "etc-probe"),
  };
}

/** Runs a verb with the probe; returns probe name -> outcome. */
async function probed(
  env: Env,
  args: string[],
): Promise<{ outcomes: Record<string, string>; code: number }> {
  const paths = probes(env);
  const result = await env.run(args, {
    env: { [WRITE_PROBE_ENV]: Object.values(paths).join(":") },
  });
  const outcomes: Record<string, string> = {};
  for (const [name, path] of Object.entries(paths)) {
    const line = result.stderr.split("\n").findLast((l) =>
      l.startsWith(`remoteproc-runtime: test: write ${path}: `)
    );
    outcomes[name] = line?.slice(line.lastIndexOf(" ") + 1) ?? "no report";
  }
  return { outcomes, code: result.code };
}

Deno.test("this kernel offers Landlock (the tests below need it)", () => {
  assert.ok(landlockAbi() >= 1);
});

Deno.test("each verb can write only where it must; elsewhere, even inside the sysroot, it gets EACCES", async (t) => {
  await using env = await setUp([{ name: "m4" }, { name: "dsp" }]);
  Deno.mkdirSync(join(env.sysroot, "lib/firmware"), { recursive: true });
  const pidFile = join(env.tmp, "pid");
  const create = await probed(env, [
    "create",
    "-b",
    env.bundle(),
    "--pid-file",
    pidFile,
    "c1",
  ]);
  assert.equal(create.code, 0);
  await t.step("create (and so its proxy)", () => {
    assert.deepEqual(create.outcomes, {
      stateRoot: "ok",
      claims: "ok",
      firmware: "EACCES",
      ownDevice: "ok",
      otherDevice: "EACCES",
      elsewhere: "EACCES",
    });
    assert.match(Deno.readTextFileSync(pidFile), /^\d+$/);
  });
  const state = await probed(env, ["state", "c1"]);
  await t.step("state writes nothing", () => {
    assert.equal(state.code, 0);
    for (const outcome of Object.values(state.outcomes)) {
      assert.equal(outcome, "EACCES");
    }
  });
  const start = await probed(env, ["start", "c1"]);
  await t.step("start", () => {
    assert.equal(start.code, 0);
    assert.deepEqual(start.outcomes, {
      stateRoot: "EACCES",
      claims: "ok",
      firmware: "ok",
      ownDevice: "ok",
      otherDevice: "EACCES",
      elsewhere: "EACCES",
    });
  });
  const kill = await probed(env, ["kill", "c1", "KILL"]);
  await t.step("kill", () => {
    assert.equal(kill.code, 0);
    for (const outcome of Object.values(kill.outcomes)) {
      assert.equal(outcome, "EACCES");
    }
  });
  const remove = await probed(env, ["delete", "c1"]);
  await t.step("delete", () => {
    assert.equal(remove.code, 0);
    assert.deepEqual(remove.outcomes, {
      stateRoot: "ok",
      claims: "ok",
      firmware: "ok",
      ownDevice: "ok",
      otherDevice: "EACCES",
      elsewhere: "EACCES",
    });
  });
  assert.deepEqual(env.sim.violations, []);
  assert.equal(env.sim.state(1), "offline");
});

Deno.test("start's read rule is the rootfs create resolved: a rootfs replaced by a symlink to a host directory opens nothing there", async () => {
  await using env = await setUp([{ name: "m4" }, { name: "dsp" }]);
  const host = join(env.tmp, "host");
  Deno.mkdirSync(host);
  Deno.writeTextFileSync(join(host, "secret"), "host file");
  const swapped = env.bundle();
  const intact = env.bundle({ annotations: { "remoteproc.name": "dsp" } });
  for (const [bundle, id] of [[swapped, "c1"], [intact, "c2"]] as const) {
    const created = await env.run(["create", "-b", bundle, id]);
    assert.equal(created.code, 0, created.stderr);
  }
  Deno.renameSync(join(swapped, "rootfs"), join(swapped, "rootfs.real"));
  makeSymlinks([[host, join(swapped, "rootfs")]]);
  const probe = (path: string) => ({ [READ_PROBE_ENV]: path });
  const read = (stderr: string, path: string) =>
    stderr.split("\n").find((l) =>
      l.startsWith(`remoteproc-runtime: test: read ${path}: `)
    )?.split(": ").at(-1);

  const refused = await env.run(["start", "c1"], {
    env: probe(join(swapped, "rootfs/secret")),
  });
  assert.equal(
    read(refused.stderr, join(swapped, "rootfs/secret")),
    "EACCES",
  );
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /changed since create: it is now a symlink\n$/,
  );

  // The same probe reads the rootfs of a container whose rootfs is intact.
  const allowed = await env.run(["start", "c2"], {
    env: probe(join(intact, "rootfs/fw.elf")),
  });
  assert.equal(read(allowed.stderr, join(intact, "rootfs/fw.elf")), "ok");
  assert.equal(allowed.code, 0, allowed.stderr);
});

Deno.test("the proxy runs under the confinement its create set up (no_new_privs is inherited)", async () => {
  await using env = await setUp();
  assert.equal((await env.run(["create", "-b", env.bundle(), "c1"])).code, 0);
  const [pid] = proxies(env);
  assert.ok(pid);
  const status = new Deno.Command("/bin/cat", {
    args: [`/proc/${pid}/status`],
    stdout: "piped",
  }).outputSync();
  assert.match(new TextDecoder().decode(status.stdout), /^NoNewPrivs:\s+1$/m);
});

Deno.test("core/os/libc.ts is the only module that loads native code", () => {
  const root = new URL("..", import.meta.url);
  const callers: string[] = [];
  const walk = (dir: URL, rel: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      if (
        ["node_modules", ".cache", ".git", "dist", "tests"].includes(entry.name)
      ) {
        continue;
      }
      const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
      if (entry.isDirectory) walk(url, `${rel}${entry.name}/`);
      else if (
        entry.name.endsWith(".ts") &&
        /\bDeno\.dlopen\s*\(/.test(Deno.readTextFileSync(url))
      ) callers.push(`${rel}${entry.name}`);
    }
  };
  walk(root, "");
  assert.deepEqual(callers, ["core/os/libc.ts"]);
});

Deno.test("without Landlock (here: FFI denied) a verb warns once and goes on", async () => {
  await using env = await setUp();
  const out = join(env.tmp, "err");
  const cli = cliWithoutFfi(env.sysroot, ["state", "c1"]);
  const status = await new Deno.Command("/bin/sh", {
    args: ["-c", 'out=$1; shift; exec "$@" 2>"$out"', "sh", out, ...cli.argv],
    env: cli.env,
    stdout: "null",
  }).output();
  assert.equal(status.code, 1);
  assert.equal(
    Deno.readTextFileSync(out),
    "remoteproc-runtime: warning: landlock unavailable, running unconfined: FFI is not permitted (--allow-ffi)\n" +
      "remoteproc-runtime: container does not exist\n",
  );
});
