/**
 * The CRI tier's scenarios: the test plays the kubelet against containerd's
 * CRI server (started by tests/k8s/run.sh, which sets the RPRT_K8S_*
 * variables), with bin/remoteproc-runtime as the runtime handler
 * `remoteproc`, and checks the CRI answers and the simulator. Pods use the
 * host network. Each scenario runs its own pod and removes it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  connectCri,
  type ContainerConfig,
  type ContainerStatus,
  type CriClient,
  CriError,
  type PodSandboxConfig,
} from "./cri_client.ts";
import { FakeKubelet } from "../helpers/kubelet.ts";

function setting(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set: run tests/k8s/run.sh`);
  return value;
}

const SOCKET = setting("RPRT_K8S_SOCKET");
const SYSROOT = setting("RPRT_K8S_SYSROOT");
const STATE_ROOT = setting("RPRT_K8S_STATE_ROOT");
const RUNTIME = setting("RPRT_K8S_WRAPPER");
const FW_IMAGE = setting("RPRT_K8S_FW_IMAGE");
const PAUSE_IMAGE = setting("RPRT_K8S_PAUSE_IMAGE");
const PODS = setting("RPRT_K8S_PODS");
const HANDLER = "remoteproc";
const PROCESSORS = ["m4", "dsp", "r5"];

// ---------------------------------------------------------------- simulator

function rpDir(n: number): string {
  return join(SYSROOT, `sys/class/remoteproc/remoteproc${n}`);
}
function debugDir(n: number): string {
  return join(SYSROOT, `sys/kernel/debug/remoteproc/remoteproc${n}`);
}
function rpState(n: number): string {
  return Deno.readTextFileSync(join(rpDir(n), "state")).trim();
}
function loadedFirmware(n: number): string {
  return Deno.readTextFileSync(join(rpDir(n), "firmware")).trim();
}
function trace(n: number, text: string): void {
  Deno.writeTextFileSync(join(debugDir(n), "trace0"), text, { append: true });
}
function crash(n: number): void {
  Deno.writeTextFileSync(join(debugDir(n), "crash"), "1");
}
async function setRecovery(n: number, value: "enabled" | "disabled") {
  Deno.writeTextFileSync(join(rpDir(n), "recovery"), value);
  await until(
    () => Deno.readTextFileSync(join(debugDir(n), "recovery")).trim() === value,
    `recovery ${value} on remoteproc${n}`,
  );
}
function storedFirmware(): string[] {
  return list(join(SYSROOT, "lib/firmware"));
}

// ---------------------------------------------------------------- helpers

function list(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}

async function until(
  fn: () => boolean | Promise<boolean>,
  what: string,
  ms = 20_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs the runtime as containerd's shim does (same --root). */
async function runtime(
  ...args: string[]
): Promise<{ code: number; out: string }> {
  const result = await new Deno.Command(RUNTIME, {
    args: ["--root", STATE_ROOT, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: result.code,
    out: decode(result.stdout) + decode(result.stderr),
  };
}

/** Pids of live proxies (the runtime's, for this state root). */
function proxies(): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (cmdline.includes(`--dir=${STATE_ROOT}/`)) {
        pids.push(Number(entry.name));
      }
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Regular files other than lock dot-files under a directory tree. */
function filesUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const entry of list(d)) {
      const path = join(d, entry);
      const info = Deno.lstatSync(path);
      if (info.isDirectory) walk(path);
      else if (!entry.startsWith(".")) found.push(path);
    }
  };
  walk(dir);
  return found;
}

/** Nothing of the runtime's is left: no container, claim, proxy, firmware. */
async function assertNothingLeft(): Promise<void> {
  const listed = await runtime("list", "-q");
  assert.equal(listed.code, 0, listed.out);
  assert.equal(listed.out.trim(), "", "containers the runtime still lists");
  assert.deepEqual(filesUnder(STATE_ROOT), [], "state left");
  assert.deepEqual(
    filesUnder(join(SYSROOT, "run/remoteproc-runtime")),
    [],
    "claims or state left",
  );
  await until(() => proxies().length === 0, "no proxy left", 5_000);
  assert.deepEqual(storedFirmware(), [], "stored firmware left");
  PROCESSORS.forEach((name, n) =>
    assert.equal(rpState(n), "offline", `${name} (remoteproc${n})`)
  );
}

// ---------------------------------------------------------------- the kubelet's part

let pods = 0;

function podConfig(
  name: string,
  annotations: Record<string, string>,
): PodSandboxConfig {
  const uid = `${name}-${Date.now()}-${pods++}`;
  const dir = join(PODS, uid);
  Deno.mkdirSync(dir, { recursive: true });
  return {
    metadata: { name, uid, namespace: "rprt-k8s", attempt: 0 },
    log_directory: dir,
    labels: { "io.kubernetes.pod.name": name },
    annotations,
    linux: {
      cgroup_parent: "/rprt-k8s",
      security_context: {
        namespace_options: { network: "NODE", pid: "CONTAINER" },
      },
    },
  };
}

function containerConfig(
  name: string,
  options: {
    attempt?: number;
    annotations?: Record<string, string>;
    env?: Record<string, string>;
    command?: string[];
  } = {},
): ContainerConfig {
  const attempt = options.attempt ?? 0;
  return {
    metadata: { name, attempt },
    image: { image: FW_IMAGE },
    ...(options.command ? { command: options.command } : {}),
    envs: Object.entries(options.env ?? {}).map(([key, value]) => ({
      key,
      value,
    })),
    labels: { "io.kubernetes.container.name": name },
    annotations: options.annotations ?? {},
    log_path: `${name}/${attempt}.log`,
    linux: {
      security_context: {
        namespace_options: { network: "NODE", pid: "CONTAINER" },
      },
    },
  };
}

/** A pod: its sandbox, and what the kubelet does with its containers. */
interface Pod {
  id: string;
  config: PodSandboxConfig;
  /** CreateContainer + StartContainer; returns the container id. */
  run(config: ContainerConfig): Promise<string>;
  /** StopPodSandbox + RemovePodSandbox. */
  remove(): Promise<void>;
}

async function runPod(
  cri: CriClient,
  name: string,
  annotations: Record<string, string> = {},
): Promise<Pod> {
  const config = podConfig(name, annotations);
  const id = await cri.runPodSandbox(config, HANDLER);
  return {
    id,
    config,
    async run(container) {
      const cid = await cri.createContainer(id, container, config);
      try {
        await cri.startContainer(cid);
      } catch (error) {
        await cri.removeContainer(cid).catch(() => {});
        throw error;
      }
      return cid;
    },
    async remove() {
      await cri.stopPodSandbox(id);
      await cri.removePodSandbox(id);
    },
  };
}

async function withCri(fn: (cri: CriClient) => Promise<void>): Promise<void> {
  const cri = connectCri(SOCKET);
  try {
    await fn(cri);
  } finally {
    cri.close();
  }
}

async function exited(
  cri: CriClient,
  id: string,
): Promise<ContainerStatus> {
  let status: ContainerStatus | undefined;
  await until(async () => {
    status = await cri.containerStatus(id);
    return status.state === "CONTAINER_EXITED";
  }, `container ${id} to exit`);
  return status!;
}

function logOf(pod: Pod, status: ContainerStatus): string {
  try {
    return Deno.readTextFileSync(
      status.log_path.startsWith("/")
        ? status.log_path
        : join(pod.config.log_directory!, status.log_path),
    );
  } catch {
    return "";
  }
}

async function logHas(
  cri: CriClient,
  pod: Pod,
  id: string,
  text: string,
): Promise<void> {
  const status = await cri.containerStatus(id);
  await until(
    () => logOf(pod, status).includes(text),
    `"${text}" in the log of ${status.metadata.name}: ${logOf(pod, status)}`,
  );
}

/** The error StartContainer fails with: carries the runtime's line. */
async function startFails(pod: Pod, config: ContainerConfig): Promise<string> {
  try {
    await pod.run(config);
  } catch (error) {
    assert.ok(error instanceof CriError, String(error));
    return error.details;
  }
  throw new Error(`container ${config.metadata.name} started`);
}

// ---------------------------------------------------------------- scenarios

Deno.test("containerd's CRI server answers and knows both images", async () => {
  await withCri(async (cri) => {
    const version = await cri.version();
    assert.equal(version.runtime_name, "containerd");
    assert.match((await cri.imageId(FW_IMAGE)) ?? "", /^sha256:/);
    assert.match((await cri.imageId(PAUSE_IMAGE)) ?? "", /^sha256:/);
  });
});

Deno.test("RunPodSandbox: READY, with no processor claimed and nothing deployed", async () => {
  await withCri(async (cri) => {
    // The pod-wide name reaches the sandbox's spec too: it is ignored there.
    const pod = await runPod(cri, "sandbox-only", { "remoteproc.name": "m4" });
    try {
      const status = await cri.podSandboxStatus(pod.id);
      assert.equal(status.state, "SANDBOX_READY");
      assert.equal(status.runtime_handler, HANDLER);
      const state = await runtime("state", pod.id);
      assert.equal(state.code, 0, state.out);
      const doc = JSON.parse(state.out);
      assert.equal(doc.status, "running");
      assert.equal(
        doc.annotations["io.kubernetes.cri.container-type"],
        "sandbox",
      );
      assert.equal(doc.annotations["remoteproc.name"], "m4");
      PROCESSORS.forEach((_, n) => assert.equal(rpState(n), "offline"));
      assert.deepEqual(storedFirmware(), []);
      assert.deepEqual(
        filesUnder(join(SYSROOT, "run/remoteproc-runtime")),
        [],
        "claims",
      );
    } finally {
      await pod.remove();
    }
    await assertNothingLeft();
  });
});

Deno.test("a firmware container runs: RUNNING, processor running, its log holds the proxy's lines and the trace; StopContainer exits 143 and RemoveContainer leaves no firmware", async () => {
  await withCri(async (cri) => {
    const pod = await runPod(cri, "one-firmware", { "remoteproc.name": "m4" });
    try {
      const id = await pod.run(containerConfig("fw"));
      const status = await cri.containerStatus(id);
      assert.equal(status.state, "CONTAINER_RUNNING");
      assert.equal(status.metadata.name, "fw");
      assert.ok(status.started_at > 0);
      assert.equal(rpState(0), "running");
      const stored = storedFirmware();
      assert.equal(stored.length, 1);
      assert.equal(loadedFirmware(0), stored[0]);
      await logHas(cri, pod, id, "remoteproc0 (m4): firmware");
      await logHas(cri, pod, id, "deployed and running");
      trace(0, "hello from the m4\n");
      await logHas(cri, pod, id, "hello from the m4");
      assert.match(
        logOf(pod, status),
        /^\S+ stdout F remoteproc-runtime: remoteproc0 \(m4\): firmware \S+ deployed and running$/m,
      );

      await cri.stopContainer(id, 10);
      const stopped = await exited(cri, id);
      assert.equal(stopped.exit_code, 143);
      assert.ok(stopped.finished_at >= stopped.started_at);
      assert.equal(rpState(0), "offline");
      await logHas(cri, pod, id, "stopped on request");

      await cri.removeContainer(id);
      assert.deepEqual(storedFirmware(), []);
      assert.deepEqual(await cri.listContainers(pod.id), []);
    } finally {
      await pod.remove();
    }
    await assertNothingLeft();
  });
});

Deno.test("a crash with recovery disabled exits 2 on its own; the next attempt starts while the old one is kept, which is then removed without disturbing it", async () => {
  await setRecovery(2, "disabled");
  try {
    await withCri(async (cri) => {
      const pod = await runPod(cri, "crashing", { "remoteproc.name": "r5" });
      try {
        const first = await pod.run(containerConfig("fw", { attempt: 0 }));
        assert.equal(rpState(2), "running");
        trace(2, "r5: watchdog about to bite\n");
        await logHas(cri, pod, first, "watchdog about to bite");
        crash(2);
        const status = await exited(cri, first);
        assert.equal(status.exit_code, 2);
        await logHas(cri, pod, first, "crashed (recovery disabled)");

        // The kubelet's next attempt; the exited one stays for
        // `kubectl logs --previous`.
        const second = await pod.run(containerConfig("fw", { attempt: 1 }));
        assert.equal(
          (await cri.containerStatus(second)).state,
          "CONTAINER_RUNNING",
        );
        assert.equal(rpState(2), "running");
        const stored = storedFirmware();
        assert.equal(stored.length, 1);
        assert.equal(loadedFirmware(2), stored[0]);
        assert.equal(
          (await cri.containerStatus(first)).state,
          "CONTAINER_EXITED",
        );
        await logHas(cri, pod, second, "deployed and running");

        await cri.removeContainer(first);
        assert.equal(rpState(2), "running");
        assert.equal(loadedFirmware(2), stored[0]);
        assert.deepEqual(storedFirmware(), stored);
        assert.equal(
          (await cri.containerStatus(second)).state,
          "CONTAINER_RUNNING",
        );
        await cri.stopContainer(second, 10);
        assert.equal((await exited(cri, second)).exit_code, 143);
        await cri.removeContainer(second);
      } finally {
        await pod.remove();
      }
      await assertNothingLeft();
    });
  } finally {
    await setRecovery(2, "enabled");
  }
});

Deno.test("two firmware containers in one pod run on two processors: one by its pod annotation, one by REMOTEPROC_NAME", async () => {
  await withCri(async (cri) => {
    const pod = await runPod(cri, "two-firmware", {
      "remoteproc.name.fw-m4": "m4",
    });
    try {
      const m4 = await pod.run(containerConfig("fw-m4"));
      const dsp = await pod.run(
        containerConfig("fw-dsp", { env: { REMOTEPROC_NAME: "dsp" } }),
      );
      for (const id of [m4, dsp]) {
        assert.equal(
          (await cri.containerStatus(id)).state,
          "CONTAINER_RUNNING",
        );
      }
      assert.equal(rpState(0), "running");
      assert.equal(rpState(1), "running");
      assert.equal(storedFirmware().length, 2);
      await logHas(cri, pod, m4, "remoteproc0 (m4): firmware");
      await logHas(cri, pod, dsp, "remoteproc1 (dsp): firmware");
    } finally {
      await pod.remove();
    }
    await assertNothingLeft();
  });
});

Deno.test("an unknown processor, a busy processor and a missing firmware file fail StartContainer with the runtime's message", async () => {
  await withCri(async (cri) => {
    const pod = await runPod(cri, "errors", {
      "remoteproc.name.unknown": "nope",
      "remoteproc.name.holder": "m4",
      "remoteproc.name.busy": "m4",
      "remoteproc.name.missing": "dsp",
    });
    try {
      const unknown = await startFails(pod, containerConfig("unknown"));
      assert.match(
        unknown,
        /OCI runtime create failed: no remote processor named "nope" \(available: m4 \(remoteproc0\), dsp \(remoteproc1\), r5 \(remoteproc2\)\)/,
      );
      const holder = await pod.run(containerConfig("holder"));
      const busy = await startFails(pod, containerConfig("busy"));
      assert.match(
        busy,
        new RegExp(
          `OCI runtime create failed: remoteproc0 \\(m4\\) is in use by container ${holder}`,
        ),
      );
      assert.equal(rpState(0), "running", "the holder's processor");
      const missing = await startFails(
        pod,
        containerConfig("missing", { command: ["missing.elf"] }),
      );
      assert.match(
        missing,
        /OCI runtime create failed: firmware file "missing.elf" does not exist in the rootfs/,
      );
      assert.equal(rpState(1), "offline");
      assert.equal(storedFirmware().length, 1, "only the holder's");
    } finally {
      await pod.remove();
    }
    await assertNothingLeft();
  });
});

Deno.test("StopPodSandbox + RemovePodSandbox leave no proxy, claim, state directory or stored firmware", async () => {
  await withCri(async (cri) => {
    const pod = await runPod(cri, "teardown", { "remoteproc.name": "dsp" });
    const id = await pod.run(containerConfig("fw"));
    assert.equal(rpState(1), "running");
    assert.ok(proxies().length >= 2, "the sandbox's and the container's");
    await cri.stopPodSandbox(pod.id);
    assert.equal(
      (await cri.podSandboxStatus(pod.id)).state,
      "SANDBOX_NOTREADY",
    );
    assert.equal((await cri.containerStatus(id)).state, "CONTAINER_EXITED");
    assert.equal(rpState(1), "offline");
    await cri.removePodSandbox(pod.id);
    await assertNothingLeft();
  });
});

// ---------------------------------------------------------------- device plugin

const LAUNCHER = new URL("../../bin/remoteproc-runtime", import.meta.url)
  .pathname;

Deno.test("a pod that requests remoteproc.io/dsp runs on the processor the device plugin allocated, with no annotation written by hand", async () => {
  const dir = join(setting("RPRT_K8S_TMP"), "device-plugins");
  Deno.mkdirSync(dir, { recursive: true });
  const kubelet = new FakeKubelet(dir);
  await kubelet.start();
  const plugin = new Deno.Command(LAUNCHER, {
    args: [
      `--sysroot=${SYSROOT}`,
      "--root",
      STATE_ROOT,
      "device-plugin",
      "--kubelet-dir",
      dir,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  try {
    await until(
      () => kubelet.registrations.length === PROCESSORS.length,
      "the device plugin's registrations",
    );
    const registration = kubelet.registrations.find((r) =>
      r.resource_name === "remoteproc.io/dsp"
    )!;
    const dsp = kubelet.plugin(registration.endpoint);
    const watch = dsp.watch();
    try {
      // The kubelet: a healthy device of the resource, then Allocate.
      const devices = await watch.until(() => true);
      assert.deepEqual(devices, { remoteproc1: "Healthy" });
      const allocated = await dsp.allocate({
        container_requests: [{ devicesIDs: ["remoteproc1"] }],
      }) as { container_responses: { annotations: Record<string, string> }[] };
      const annotations = allocated.container_responses[0]!.annotations;
      await withCri(async (cri) => {
        const pod = await runPod(cri, "allocated");
        try {
          const id = await pod.run(containerConfig("fw", { annotations }));
          const status = await cri.containerStatus(id);
          assert.equal(status.state, "CONTAINER_RUNNING");
          assert.equal(rpState(1), "running");
          assert.equal(rpState(0), "offline");
          await logHas(cri, pod, id, "remoteproc1 (dsp): firmware");
          // Held by the runtime: still Healthy a poll later.
          await new Promise((r) => setTimeout(r, 1500));
          assert.deepEqual(watch.lists.at(-1), { remoteproc1: "Healthy" });
          await cri.stopContainer(id, 10);
          await exited(cri, id);
          await cri.removeContainer(id);
        } finally {
          await pod.remove();
        }
      });
    } finally {
      watch.cancel();
      dsp.close();
    }
  } finally {
    plugin.kill("SIGTERM");
    assert.equal((await plugin.status).code, 0);
    await kubelet.close();
  }
  assert.deepEqual(list(dir), []);
  await assertNothingLeft();
});
