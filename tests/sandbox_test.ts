/**
 * Pod sandboxes: a container that containerd or CRI-O marks as a pod's
 * sandbox becomes a placeholder that claims no processor, deploys nothing,
 * ignores `process.args` and the pod's `remoteproc.*` annotations, and ends
 * like a stopped proxy. Only the exact marker values count.
 */
import assert from "node:assert/strict";
import { type Env, setUp } from "./helpers/harness.ts";
import { assertClean } from "./helpers/inspect.ts";
import { runReaped } from "./helpers/reaper.ts";
import { launcherDenoWithoutFfi } from "./helpers/no_ffi.ts";

const CONTAINERD_SANDBOX = { "io.kubernetes.cri.container-type": "sandbox" };
const CRIO_SANDBOX = { "io.kubernetes.cri-o.ContainerType": "sandbox" };

/** A sandbox bundle as containerd writes it: `/pause`, the pod's annotations. */
function sandboxBundle(
  env: Env,
  markers: Record<string, string> = CONTAINERD_SANDBOX,
  args: string[] = ["/pause"],
): string {
  return env.bundle({
    files: {},
    config: { process: { args, cwd: "/", terminal: false } },
    annotations: {
      ...markers,
      "io.kubernetes.cri.sandbox-id": "pod1",
      "remoteproc.name": "m4",
    },
  });
}

/**
 * Runs `create` under a child subreaper (as conmon and the runc shim do) and
 * returns a function that waits for the proxy's exit status.
 */
async function createReaped(
  env: Env,
  id: string,
  bundle: string,
  extraEnv: Record<string, string> = {},
): Promise<() => Promise<number>> {
  const run = runReaped(env, ["create", "-b", bundle, id], extraEnv);
  assert.equal(await run.command, 0, run.output().stderr);
  return async () => {
    const orphans = await run.orphans;
    assert.equal(orphans.length, 1, JSON.stringify(orphans));
    return orphans[0]!.code;
  };
}

Deno.test("a pod sandbox becomes a placeholder: no claim, no firmware, shown by state and list", async () => {
  await using env = await setUp();
  // /pause is not in the rootfs and two arguments would not do for
  // firmware: process is not read at all.
  const bundle = sandboxBundle(env, CONTAINERD_SANDBOX, ["/pause", "-v"]);
  const created = await env.run(["create", "-b", bundle, "pod1"]);
  assert.equal(created.code, 0, created.stderr);
  assert.equal((await env.state("pod1")).status, "created");
  assert.deepEqual(env.claims(), []);
  const started = await env.run(["start", "pod1"]);
  assert.equal(started.code, 0, started.stderr);
  const state = await env.state("pod1");
  assert.equal(state.status, "running");
  assert.ok(state.pid > 0);
  assert.equal(env.sim.state(0), "offline");
  assert.deepEqual(env.storedFirmware(), []);
  assert.deepEqual(env.claims(), []);
  const list = await env.run(["list", "-q"]);
  assert.deepEqual(list.stdout.trim().split("\n"), ["pod1"]);
  const ps = await env.run(["ps", "--format", "json", "pod1"]);
  assert.deepEqual(JSON.parse(ps.stdout), [state.pid]);

  // The pod's remoteproc.name (m4) was not taken: a container gets it.
  await env.deploy("fw1");
  assert.equal(env.sim.state(0), "running");

  const killed = await env.run(["kill", "pod1", "TERM"]);
  assert.equal(killed.code, 0, killed.stderr);
  await env.until(async () => (await env.state("pod1")).status === "stopped");
  const deleted = await env.run(["delete", "pod1"]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(env.sim.state(0), "running", "the container's processor");
  assert.equal((await env.state("fw1")).status, "running");
  assert.equal(env.storedFirmware().length, 1);

  assert.equal((await env.run(["delete", "--force", "fw1"])).code, 0);
  await assertClean(env);
});

Deno.test("a CRI-O infra container becomes a placeholder too", async () => {
  await using env = await setUp();
  const bundle = sandboxBundle(env, CRIO_SANDBOX);
  assert.equal((await env.run(["create", "-b", bundle, "infra"])).code, 0);
  assert.equal((await env.run(["start", "infra"])).code, 0);
  assert.equal((await env.state("infra")).status, "running");
  assert.deepEqual(env.claims(), []);
  assert.equal(env.sim.state(0), "offline");
  assert.equal((await env.run(["delete", "--force", "infra"])).code, 0);
  await assertClean(env);
});

Deno.test("the placeholder ends like a stopped proxy: TERM 143, INT 130, KILL 137", async () => {
  await using env = await setUp();
  for (const [signal, code] of [["TERM", 143], ["INT", 130], ["KILL", 137]]) {
    const id = `pod-${signal}`;
    const exited = await createReaped(env, id, sandboxBundle(env));
    assert.equal((await env.run(["start", id])).code, 0);
    const killed = await env.run(["kill", id, String(signal)]);
    assert.equal(killed.code, 0, killed.stderr);
    assert.equal(await exited(), code, `exit status after ${signal}`);
    assert.equal((await env.state(id)).status, "stopped");
    assert.equal((await env.run(["delete", id])).code, 0);
  }
  await assertClean(env);
});

Deno.test("only the exact marker values make a placeholder; anything else is firmware", async () => {
  await using env = await setUp();
  for (
    const markers of [
      { "io.kubernetes.cri.container-type": "container" },
      { "io.kubernetes.cri.container-type": "Sandbox" },
      { "io.kubernetes.cri.container-type": "sandbox " },
      { "io.kubernetes.cri-o.ContainerType": "sandboxes" },
      { "io.kubernetes.container-type": "sandbox" },
    ]
  ) {
    const result = await env.run([
      "create",
      "-b",
      sandboxBundle(env, markers),
      "not-a-sandbox",
    ]);
    assert.equal(result.code, 1, JSON.stringify(markers));
    assert.match(
      result.stderr,
      /firmware file "\/pause" does not exist in the rootfs/,
    );
  }
  await assertClean(env);
});

Deno.test("without FFI (Deno's signal listeners) the placeholder lives until TERM and exits 143", async () => {
  await using env = await setUp();
  const noFfi = launcherDenoWithoutFfi(env.tmp);
  const exited = await createReaped(env, "pod1", sandboxBundle(env), noFfi);
  assert.equal((await env.run(["start", "pod1"], { env: noFfi })).code, 0);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await env.state("pod1")).status, "running");
  assert.equal(
    (await env.run(["kill", "pod1", "TERM"], { env: noFfi })).code,
    0,
  );
  assert.equal(await exited(), 143);
  assert.equal((await env.run(["delete", "pod1"], { env: noFfi })).code, 0);
  await assertClean(env);
});
