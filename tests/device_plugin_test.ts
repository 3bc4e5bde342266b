/**
 * The Kubernetes device plugin (`device-plugin`), black box: the plugin
 * runs through bin/remoteproc-runtime under its real permission set, the
 * test plays the kubelet (tests/helpers/kubelet.ts) on a temp directory.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Env, LAUNCHER, setUp } from "./helpers/harness.ts";
import { FakeKubelet } from "./helpers/kubelet.ts";
import type { ProcessorSpec } from "../sim/simulator.ts";
import { makeElf } from "../fixtures/make_elf.ts";
import { selectProcessor } from "../core/device/selection.ts";
import { allocationAnnotations } from "../core/device_plugin/server.ts";

/** A running plugin, its stderr lines collected. */
interface Running {
  kubelet: FakeKubelet;
  dir: string;
  lines: string[];
  child: Deno.ChildProcess;
  /** Waits for a log line containing `text`. */
  line(text: string, ms?: number): Promise<string>;
  /** TERM; resolves to the exit code. */
  stop(): Promise<number>;
}

async function withPlugin(
  processors: ProcessorSpec[],
  fn: (env: Env, plugin: Running) => Promise<void>,
  options: {
    before?: (
      dir: string,
      kubelet: FakeKubelet,
      env: Env,
    ) => void | Promise<void>;
  } = {},
): Promise<void> {
  const env = await setUp(processors);
  const dir = join(env.tmp, "device-plugins");
  Deno.mkdirSync(dir);
  const kubelet = new FakeKubelet(dir);
  await kubelet.start();
  await options.before?.(dir, kubelet, env);
  const child = new Deno.Command(LAUNCHER, {
    args: ["--root", env.root, "device-plugin", "--kubelet-dir", dir],
    env: { REMOTEPROC_RUNTIME_SYSROOT: env.sysroot },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const reading = (async () => {
    let rest = "";
    for await (
      const chunk of child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      rest += chunk;
      const parts = rest.split("\n");
      rest = parts.pop()!;
      lines.push(...parts);
    }
  })();
  let code: number | undefined;
  const plugin: Running = {
    kubelet,
    dir,
    lines,
    child,
    async line(text, ms = 10_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = lines.find((l) => l.includes(text));
        if (found) return found;
        if (Date.now() > deadline) {
          throw new Error(
            `no log line with ${JSON.stringify(text)}: ${lines.join("\n")}`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      if (code === undefined) {
        child.kill("SIGTERM");
        code = (await child.status).code;
        await reading;
      }
      return code;
    },
  };
  try {
    await fn(env, plugin);
  } finally {
    await plugin.stop();
    await kubelet.close();
    await env.close();
  }
}

function sockets(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

async function until(fn: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("device-plugin registers one resource per processor kind, each on its own socket, and serves the Device Plugin API", async () => {
  await withPlugin(
    [{ name: "m4" }, { name: "dsp" }, { name: "m4" }],
    async (_env, plugin) => {
      const { kubelet } = plugin;
      await until(() => kubelet.registrations.length === 2);
      const options = {
        pre_start_required: false,
        get_preferred_allocation_available: true,
      };
      assert.deepEqual(kubelet.registrations, [
        {
          version: "v1beta1",
          endpoint: "remoteproc-0.sock",
          resource_name: "remoteproc.io/dsp",
          options,
        },
        {
          version: "v1beta1",
          endpoint: "remoteproc-1.sock",
          resource_name: "remoteproc.io/m4",
          options,
        },
      ]);
      assert.deepEqual(sockets(plugin.dir), [
        "kubelet.sock",
        "remoteproc-0.sock",
        "remoteproc-1.sock",
      ]);
      const m4 = kubelet.plugin("remoteproc-1.sock");
      try {
        const watch = m4.watch();
        assert.deepEqual(await watch.until(() => true), {
          remoteproc0: "Healthy",
          remoteproc2: "Healthy",
        });
        watch.cancel();
        assert.deepEqual(await m4.options({}), options);
        assert.deepEqual(
          await m4.allocate({
            container_requests: [{ devicesIDs: ["remoteproc2"] }],
          }),
          {
            container_responses: [{
              envs: {},
              annotations: {
                "remoteproc.name": "remoteproc2",
                "remoteproc.allocated": "remoteproc2",
              },
            }],
          },
        );
        await assert.rejects(
          m4.allocate({
            container_requests: [{
              devicesIDs: ["remoteproc0", "remoteproc2"],
            }],
          }),
          /a container drives one remote processor, not 2/,
        );
        await assert.rejects(
          m4.allocate({
            container_requests: [{ devicesIDs: ["remoteproc1"] }],
          }),
          /remoteproc1 is not a processor of remoteproc.io\/m4/,
        );
        assert.deepEqual(
          await m4.preferred({
            container_requests: [{
              available_deviceIDs: ["remoteproc2", "remoteproc0"],
              must_include_deviceIDs: [],
              allocation_size: 1,
            }],
          }),
          { container_responses: [{ deviceIDs: ["remoteproc0"] }] },
        );
        assert.deepEqual(
          await m4.preStart({ devicesIDs: ["remoteproc0"] }),
          {},
        );
      } finally {
        m4.close();
      }
      assert.equal(await plugin.stop(), 0);
      assert.deepEqual(sockets(plugin.dir), ["kubelet.sock"]);
      assert.ok(plugin.lines.some((l) => l.includes("stopped")));
    },
  );
});

Deno.test("device-plugin streams a health update when a processor crashes and when something outside the runtime holds one, but not for the runtime's own container", async () => {
  await withPlugin(
    [
      { name: "m4", recovery: "disabled" },
      { name: "m4" },
      { name: "dsp" },
    ],
    async (env, plugin) => {
      await until(() => plugin.kubelet.registrations.length === 2);
      const m4 = plugin.kubelet.plugin("remoteproc-1.sock");
      const dsp = plugin.kubelet.plugin("remoteproc-0.sock");
      try {
        const watch = m4.watch();
        await watch.until((l) => l.remoteproc0 === "Healthy");
        // The runtime's own container: running and Healthy.
        await env.deploy("fw1", {
          annotations: allocationAnnotations("remoteproc0"),
        });
        env.sim.crash(0);
        await watch.until((l) =>
          l.remoteproc0 === "Unhealthy" && l.remoteproc1 === "Healthy"
        );
        await plugin.line("remoteproc0 (m4) is Unhealthy: it reads crashed");
        // Another tool starts remoteproc1 behind the runtime's back.
        const firmware = join(env.sysroot, "lib/firmware", env.sim.firmware(1));
        Deno.mkdirSync(join(firmware, ".."), { recursive: true });
        Deno.writeFileSync(firmware, makeElf());
        Deno.writeTextFileSync(join(env.sim.classDir(1), "state"), "start");
        await watch.until((l) =>
          l.remoteproc0 === "Unhealthy" && l.remoteproc1 === "Unhealthy"
        );
        await plugin.line(
          "remoteproc1 (m4) is Unhealthy: it reads running and no container of the runtime holds it",
        );
        env.sim.stopExternally(1);
        await watch.until((l) =>
          l.remoteproc0 === "Unhealthy" && l.remoteproc1 === "Healthy"
        );
        assert.deepEqual(
          watch.lists.map((l) => l.remoteproc0 + "/" + l.remoteproc1),
          [
            "Healthy/Healthy",
            "Unhealthy/Healthy",
            "Unhealthy/Unhealthy",
            "Unhealthy/Healthy",
          ],
        );
        watch.cancel();
        // dsp deployed by the runtime: running, held, Healthy.
        await env.deploy("fw2", { annotations: { "remoteproc.name": "dsp" } });
        await new Promise((r) => setTimeout(r, 1500));
        const dspWatch = dsp.watch();
        assert.deepEqual(await dspWatch.until(() => true), {
          remoteproc2: "Healthy",
        });
        dspWatch.cancel();
      } finally {
        m4.close();
        dsp.close();
      }
    },
  );
});

Deno.test("device-plugin names a resource after a vendor profile's resource field", async () => {
  await withPlugin(
    [{ name: "m4_0" }, { name: "m4_1" }, { name: "dsp" }],
    async (_env, plugin) => {
      await until(() => plugin.kubelet.registrations.length === 2);
      assert.deepEqual(
        plugin.kubelet.registrations.map((r) => [
          r.resource_name,
          r.endpoint,
        ]),
        [
          ["remoteproc.io/cortex-m4", "remoteproc-0.sock"],
          ["remoteproc.io/dsp", "remoteproc-1.sock"],
        ],
      );
      const m4 = plugin.kubelet.plugin("remoteproc-0.sock");
      try {
        const watch = m4.watch();
        assert.deepEqual(await watch.until(() => true), {
          remoteproc0: "Healthy",
          remoteproc1: "Healthy",
        });
        watch.cancel();
      } finally {
        m4.close();
      }
    },
    {
      before: (_dir, _kubelet, env) => {
        const profiles = join(env.sysroot, "etc/remoteproc-runtime/plugins.d");
        Deno.mkdirSync(profiles, { recursive: true });
        Deno.writeTextFileSync(
          join(profiles, "acme.json"),
          JSON.stringify({
            name: "acme-m4",
            resource: "cortex-m4",
            match: { names: ["m4_*"] },
          }),
        );
      },
    },
  );
});

Deno.test("device-plugin drops a processor that disappears from sysfs from the stream, on one log line", async () => {
  await withPlugin([{ name: "m4" }, { name: "m4" }], async (env, plugin) => {
    await until(() => plugin.kubelet.registrations.length === 1);
    const m4 = plugin.kubelet.plugin("remoteproc-0.sock");
    try {
      const watch = m4.watch();
      await watch.until((l) => Object.keys(l).length === 2);
      Deno.removeSync(join(env.sysroot, "sys/class/remoteproc/remoteproc1"), {
        recursive: true,
      });
      assert.deepEqual(await watch.until(() => true), {
        remoteproc0: "Healthy",
      });
      await plugin.line(
        "remoteproc.io/m4: remoteproc1 (m4) is gone from sysfs",
      );
      watch.cancel();
    } finally {
      m4.close();
    }
  });
});

Deno.test("device-plugin registers again, on sockets made anew, when the kubelet restarts", async () => {
  await withPlugin([{ name: "m4" }], async (_env, plugin) => {
    const { kubelet, dir } = plugin;
    await until(() => kubelet.registrations.length === 1);
    // The kubelet's start-up: it stops, removes every socket, serves anew.
    await kubelet.stop();
    for (const name of sockets(dir)) Deno.removeSync(join(dir, name));
    await plugin.line(
      `waiting for the kubelet: ${join(dir, "kubelet.sock")} does not exist`,
    );
    await kubelet.start();
    await until(() => kubelet.registrations.length === 2);
    assert.deepEqual(kubelet.registrations[1], kubelet.registrations[0]);
    assert.deepEqual(sockets(dir), ["kubelet.sock", "remoteproc-0.sock"]);
    const m4 = kubelet.plugin("remoteproc-0.sock");
    try {
      const watch = m4.watch();
      assert.deepEqual(await watch.until(() => true), {
        remoteproc0: "Healthy",
      });
      watch.cancel();
    } finally {
      m4.close();
    }
  });
});

Deno.test("device-plugin logs a kubelet's refusal on one line and registers on a later attempt", async () => {
  await withPlugin([{ name: "m4" }], async (_env, plugin) => {
    const line = await plugin.line("cannot register");
    assert.match(
      line,
      /^remoteproc-runtime: device-plugin: remoteproc.io\/m4: cannot register with the kubelet: resource name taken; retrying in 1 s$/,
    );
    await until(() => plugin.kubelet.registrations.length === 1);
    assert.equal(plugin.lines.filter((l) => l.includes("cannot")).length, 1);
  }, { before: (_dir, kubelet) => kubelet.refuseNext("resource name taken") });
});

Deno.test("device-plugin waits while its socket path is taken by another file, then serves and registers", async () => {
  await withPlugin([{ name: "m4" }], async (_env, plugin) => {
    const line = await plugin.line("cannot serve");
    assert.match(
      line,
      /path is taken by a directory that is not a socket; retrying in 1 s$/,
    );
    Deno.removeSync(join(plugin.dir, "remoteproc-0.sock"));
    await until(() => plugin.kubelet.registrations.length === 1);
    assert.equal(await plugin.stop(), 0);
    assert.deepEqual(sockets(plugin.dir), ["kubelet.sock"]);
  }, { before: (dir) => Deno.mkdirSync(join(dir, "remoteproc-0.sock")) });
});

Deno.test("device-plugin gives up on a kubelet that never answers after 5 s, on one log line, and lives on", async () => {
  let listener: Deno.UnixListener | undefined;
  const held: Deno.Conn[] = [];
  try {
    await withPlugin([{ name: "m4" }], async (_env, plugin) => {
      const line = await plugin.line("cannot register", 15_000);
      assert.match(
        line,
        /remoteproc.io\/m4: cannot register with the kubelet: no answer within 5000 ms; retrying in 1 s$/,
      );
      const status = await Promise.race([
        plugin.child.status.then(() => "exited"),
        new Promise((r) => setTimeout(() => r("running"), 500)),
      ]);
      assert.equal(status, "running");
    }, {
      before: async (dir, kubelet) => {
        // A kubelet that accepts and never says a word.
        await kubelet.stop();
        listener = Deno.listen({
          transport: "unix",
          path: join(dir, "kubelet.sock"),
        });
        (async () => {
          for await (const conn of listener!) held.push(conn);
        })().catch(() => {});
      },
    });
  } finally {
    listener?.close();
    for (const conn of held) conn.close();
  }
});

Deno.test("the allocated processor outranks every name a pod gives", () => {
  const pick = selectProcessor({
    annotations: {
      "io.kubernetes.cri.container-name": "fw",
      ...allocationAnnotations("remoteproc2"),
      "remoteproc.name.fw": "dsp",
    },
    env: ["REMOTEPROC_NAME=m7"],
    pod: { "remoteproc.name": "remoteproc2", "remoteproc.name.fw": "dsp" },
  });
  assert.deepEqual(pick, {
    name: "remoteproc2",
    key: "remoteproc.allocated",
    text: "annotation remoteproc.allocated",
  });
});
