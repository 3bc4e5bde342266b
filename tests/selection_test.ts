/**
 * Choosing the processor: the container's own `remoteproc.name`, then the
 * pod annotation `remoteproc.name.<container-name>`, then the pod-wide
 * `remoteproc.name`, then `REMOTEPROC_NAME` in `process.env`. Specs are
 * written as containerd's CRI plugin writes them: the pod's `remoteproc.*`
 * annotations copied into every container's spec, under the container's own.
 */
import assert from "node:assert/strict";
import { type Env, setUp } from "./helpers/harness.ts";
import { assertClean } from "./helpers/inspect.ts";

const PROCESSORS = [
  { name: "m4" },
  { name: "dsp" },
  { name: "r5" },
  { name: "m7" },
];
const INDEX: Record<string, number> = { m4: 0, dsp: 1, r5: 2, m7: 3 };

/** Runs a pod's sandbox placeholder with the pod's annotations. */
async function runPod(
  env: Env,
  id: string,
  pod: Record<string, string>,
): Promise<void> {
  const bundle = env.bundle({
    files: {},
    config: { process: { args: ["/pause"], cwd: "/", terminal: false } },
    annotations: {
      "io.kubernetes.cri.container-type": "sandbox",
      "io.kubernetes.cri.sandbox-id": id,
      ...pod,
    },
  });
  const created = await env.run(["create", "-b", bundle, id]);
  assert.equal(created.code, 0, created.stderr);
  assert.equal((await env.run(["start", id])).code, 0);
}

/** A CRI container's bundle options: the pod's annotations, then its own. */
function criContainer(
  sandbox: string,
  name: string,
  pod: Record<string, string>,
  own: Record<string, string> = {},
  envVars: string[] = [],
) {
  return {
    annotations: {
      ...pod,
      ...own,
      "io.kubernetes.cri.container-type": "container",
      "io.kubernetes.cri.sandbox-id": sandbox,
      "io.kubernetes.cri.container-name": name,
    },
    config: {
      process: {
        args: ["fw.elf"],
        cwd: "/",
        terminal: false,
        env: ["PATH=/usr/bin:/bin", ...envVars],
      },
    },
  };
}

function running(env: Env): string[] {
  return Object.keys(INDEX).filter((n) =>
    env.sim.state(INDEX[n]!) === "running"
  );
}

Deno.test("REMOTEPROC_NAME in process.env selects the processor; the container's annotation beats it", async () => {
  await using env = await setUp(PROCESSORS);
  await env.deploy("c1", {
    annotations: {},
    config: {
      process: {
        args: ["fw.elf"],
        cwd: "/",
        env: ["REMOTEPROC_NAME=m4", "HOME=/", "REMOTEPROC_NAME=dsp"],
      },
    },
  });
  assert.deepEqual(running(env), ["dsp"], "the last REMOTEPROC_NAME wins");
  await env.deploy("c2", {
    annotations: { "remoteproc.name": "r5" },
    config: {
      process: { args: ["fw.elf"], cwd: "/", env: ["REMOTEPROC_NAME=m4"] },
    },
  });
  assert.deepEqual(running(env), ["dsp", "r5"]);
  for (const id of ["c1", "c2"]) {
    assert.equal((await env.run(["delete", "--force", id])).code, 0);
  }
  await assertClean(env, "", PROCESSORS.length);
});

Deno.test("two firmware containers in one pod on two processors: pod-wide name and per-container pod annotation", async () => {
  await using env = await setUp(PROCESSORS);
  const pod = { "remoteproc.name": "m4", "remoteproc.name.fw-b": "dsp" };
  await runPod(env, "pod1", pod);
  // fw-a takes the pod-wide name over its REMOTEPROC_NAME; fw-b its own
  // key over the pod-wide name.
  await env.deploy(
    "fw-a",
    criContainer("pod1", "fw-a", pod, {}, ["REMOTEPROC_NAME=m7"]),
  );
  await env.deploy("fw-b", criContainer("pod1", "fw-b", pod));
  assert.deepEqual(running(env), ["m4", "dsp"]);
  assert.equal((await env.state("fw-a")).status, "running");
  assert.equal((await env.state("fw-b")).status, "running");
  assert.equal((await env.state("pod1")).status, "running");
  for (const id of ["fw-a", "fw-b", "pod1"]) {
    assert.equal((await env.run(["delete", "--force", id])).code, 0);
  }
  await assertClean(env, "", PROCESSORS.length);
});

Deno.test("the container's own remoteproc.name beats the per-container pod annotation, which beats the pod-wide one", async () => {
  await using env = await setUp(PROCESSORS);
  const pod = { "remoteproc.name": "m4", "remoteproc.name.fw-c": "dsp" };
  await runPod(env, "pod1", pod);
  // Its own r5 overrides the pod's m4 under the same key.
  await env.deploy(
    "fw-c",
    criContainer("pod1", "fw-c", pod, { "remoteproc.name": "r5" }),
  );
  assert.deepEqual(running(env), ["r5"]);
  assert.equal((await env.run(["delete", "--force", "fw-c"])).code, 0);
  // Without one, its pod annotation wins over the pod-wide name.
  await env.deploy("fw-c2", criContainer("pod1", "fw-c", pod));
  assert.deepEqual(running(env), ["dsp"]);
  for (const id of ["fw-c2", "pod1"]) {
    assert.equal((await env.run(["delete", "--force", id])).code, 0);
  }
  await assertClean(env, "", PROCESSORS.length);
});

Deno.test("a pod whose sandbox is not known here: remoteproc.name counts as the pod's", async () => {
  await using env = await setUp(PROCESSORS);
  const pod = { "remoteproc.name": "m4", "remoteproc.name.fw-b": "dsp" };
  await env.deploy("fw-b", criContainer("elsewhere", "fw-b", pod));
  assert.deepEqual(running(env), ["dsp"]);
  assert.equal((await env.run(["delete", "--force", "fw-b"])).code, 0);
  await assertClean(env, "", PROCESSORS.length);
});

Deno.test("when nothing names a processor the error says where the runtime looked", async () => {
  await using env = await setUp(PROCESSORS);
  await runPod(env, "pod1", {});
  const result = await env.run([
    "create",
    "-b",
    env.bundle(criContainer("pod1", "fw-a", {})),
    "fw-a",
  ]);
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    "remoteproc-runtime: annotation remoteproc.name is required (or REMOTEPROC_NAME in process.env): it names the processor to deploy to (looked at annotation remoteproc.name, annotation remoteproc.name.fw-a, pod annotation remoteproc.name and REMOTEPROC_NAME in process.env; available: m4 (remoteproc0), dsp (remoteproc1), r5 (remoteproc2), m7 (remoteproc3))\n",
  );
  const bad = await env.run([
    "create",
    "-b",
    env.bundle(
      criContainer("pod1", "fw-a", {}, {}, ["REMOTEPROC_NAME=../m4"]),
    ),
    "fw-a",
  ]);
  assert.equal(bad.code, 1);
  assert.equal(
    bad.stderr,
    'remoteproc-runtime: REMOTEPROC_NAME in process.env is not a processor name: "../m4"\n',
  );
  const perContainer = await env.run([
    "create",
    "-b",
    env.bundle(criContainer("pod1", "fw-a", { "remoteproc.name.fw-a": "x" })),
    "fw-a",
  ]);
  assert.equal(perContainer.code, 1);
  assert.match(perContainer.stderr, /no remote processor named "x"/);
  assert.equal((await env.run(["delete", "--force", "pod1"])).code, 0);
  await assertClean(env, "", PROCESSORS.length);
});
