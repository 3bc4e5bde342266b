import assert from "node:assert/strict";
import { join } from "node:path";
import { fromFileUrl } from "./helpers/paths.ts";
import { containerdToml, dockerDaemonJson } from "../core/engine_config.ts";

const INSTALL = fromFileUrl(new URL("../install.sh", import.meta.url));
const LAUNCHER = fromFileUrl(
  new URL("../bin/remoteproc-runtime", import.meta.url),
);

function install(root: string, binary: string, ...flags: string[]) {
  const out = new Deno.Command("/bin/sh", {
    args: [INSTALL, "--root", root, ...flags, binary],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
  };
}

Deno.test("install.sh installs the binary and registers it with podman, Docker and containerd, idempotently", () => {
  const root = Deno.makeTempDirSync();
  try {
    // A stand-in "binary": a wrapper around this checkout's launcher.
    const binary = join(root, "remoteproc-runtime");
    Deno.writeTextFileSync(binary, `#!/bin/sh\nexec ${LAUNCHER} "$@"\n`);
    Deno.mkdirSync(join(root, "etc/docker"), { recursive: true });
    Deno.writeTextFileSync(
      join(root, "etc/docker/daemon.json"),
      '{"log-driver": "journald"}\n',
    );
    Deno.mkdirSync(join(root, "etc/containerd"), { recursive: true });
    Deno.writeTextFileSync(
      join(root, "etc/containerd/config.toml"),
      'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "pause:3.9"\n',
    );

    const first = install(root, binary, "--podman", "--docker", "--containerd");
    assert.equal(first.code, 0, first.stderr);
    const bin = "/usr/local/bin/remoteproc-runtime";
    assert.ok(Deno.statSync(join(root, bin)).mode! & 0o100);
    const podman = Deno.readTextFileSync(
      join(root, "etc/containers/containers.conf.d/50-remoteproc-runtime.conf"),
    );
    assert.match(
      podman,
      /\[engine\.runtimes\]\nremoteproc = \["\/usr\/local\/bin\/remoteproc-runtime"\]/,
    );
    assert.match(podman, /runtime_supports_json = \[.*"runc".*"remoteproc"\]/);
    const docker = JSON.parse(
      Deno.readTextFileSync(join(root, "etc/docker/daemon.json")),
    );
    assert.deepEqual(docker, {
      "log-driver": "journald",
      runtimes: { remoteproc: { path: bin } },
    });
    assert.equal(
      Deno.readTextFileSync(join(root, "etc/docker/daemon.json.bak")),
      '{"log-driver": "journald"}\n',
    );
    const toml = Deno.readTextFileSync(
      join(root, "etc/containerd/config.toml"),
    );
    assert.match(toml, /sandbox_image = "pause:3.9"/);
    assertCriBlock(toml, bin);

    const snapshot = (p: string) => Deno.readTextFileSync(join(root, p));
    const before = ["etc/docker/daemon.json", "etc/containerd/config.toml"].map(
      snapshot,
    );
    const second = install(
      root,
      binary,
      "--podman",
      "--docker",
      "--containerd",
    );
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /already installed/);
    assert.deepEqual(
      ["etc/docker/daemon.json", "etc/containerd/config.toml"].map(snapshot),
      before,
    );
    assert.equal(
      toml.split("BEGIN remoteproc-runtime").length,
      2,
      "one managed block",
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

/**
 * The CRI runtime handler `remoteproc`: the stock runc shim with our binary,
 * the pod's and the container's remoteproc.* annotations passed through.
 */
function assertCriBlock(toml: string, binary: string): void {
  const table =
    'plugins."io.containerd.grpc.v1.cri".containerd.runtimes.remoteproc';
  const block = [
    `[${table}]`,
    `  runtime_type = "io.containerd.runc.v2"`,
    `  pod_annotations = ["remoteproc.*"]`,
    `  container_annotations = ["remoteproc.*"]`,
    `[${table}.options]`,
    `  BinaryName = ${JSON.stringify(binary)}`,
  ].join("\n");
  assert.ok(toml.includes(`\n${block}\n`), toml);
}

Deno.test("install.sh --k3s adds the CRI runtime handler to k3s's template, starting from k3s's base", () => {
  const root = Deno.makeTempDirSync();
  try {
    const binary = join(root, "remoteproc-runtime");
    Deno.writeTextFileSync(binary, `#!/bin/sh\nexec ${LAUNCHER} "$@"\n`);
    const template = join(
      root,
      "var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl",
    );
    const first = install(root, binary, "--k3s");
    assert.equal(first.code, 0, first.stderr);
    const made = Deno.readTextFileSync(template);
    assert.ok(made.startsWith('{{ template "base" . }}\n'), made);
    assertCriBlock(made, "/usr/local/bin/remoteproc-runtime");
    const again = install(root, binary, "--k3s");
    assert.equal(again.code, 0, again.stderr);
    assert.equal(Deno.readTextFileSync(template), made);

    // An existing template is kept, the block added once.
    const own =
      '{{ template "base" . }}\n[plugins."io.containerd.grpc.v1.cri"]\n  enable_cdi = true\n';
    Deno.writeTextFileSync(template, own);
    assert.equal(install(root, binary, "--k3s").code, 0);
    const updated = Deno.readTextFileSync(template);
    assert.ok(updated.startsWith(own), updated);
    assertCriBlock(updated, "/usr/local/bin/remoteproc-runtime");
    assert.equal(Deno.readTextFileSync(`${template}.bak`), own);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("install.sh refuses to run without a binary", () => {
  const root = Deno.makeTempDirSync();
  try {
    const result = install(root, join(root, "missing"));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /give the remoteproc-runtime binary/);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("containerdToml() replaces its managed block instead of adding another", () => {
  const once = containerdToml(undefined, "/a");
  const twice = containerdToml(once, "/b");
  assert.equal(twice.split("# BEGIN remoteproc-runtime").length, 2);
  assert.match(twice, /BinaryName = "\/b"/);
  assert.throws(
    () =>
      containerdToml(
        '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.remoteproc]\n',
        "/a",
      ),
    /outside the managed block/,
  );
});

Deno.test("dockerDaemonJson() keeps other runtimes and refuses a file that is not an object", () => {
  const next = JSON.parse(
    dockerDaemonJson('{"runtimes": {"runc": {"path": "runc"}}}', "/x"),
  );
  assert.deepEqual(next.runtimes, {
    runc: { path: "runc" },
    remoteproc: { path: "/x" },
  });
  assert.throws(() => dockerDaemonJson("[]", "/x"), SyntaxError);
});
