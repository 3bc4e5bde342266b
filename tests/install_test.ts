import assert from "node:assert/strict";
import { join } from "node:path";
import { fromFileUrl } from "./helpers/paths.ts";
import { containerdToml, dockerDaemonJson } from "../core/engine_config.ts";

const INSTALL = fromFileUrl(new URL("../install.sh", import.meta.url));
const LAUNCHER = fromFileUrl(
  new URL("../bin/remoteproc-runtime", import.meta.url),
);

function install(
  root: string,
  binary: string,
  ...flags: string[]
): { code: number; stdout: string; stderr: string } {
  return installWith({}, root, binary, ...flags);
}

function installWith(
  env: Record<string, string>,
  root: string,
  binary: string,
  ...flags: string[]
) {
  const out = new Deno.Command("/bin/sh", {
    args: [INSTALL, "--root", root, ...flags, binary],
    env,
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

Deno.test("install.sh --containerd installs containerd-shim-remoteproc-v1: the stock runc shim with the runtime as its runc", () => {
  const root = Deno.makeTempDirSync();
  try {
    const binary = join(root, "remoteproc-runtime");
    Deno.writeTextFileSync(binary, `#!/bin/sh\nexec ${LAUNCHER} "$@"\n`);
    const first = install(root, binary, "--containerd");
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /installed .*containerd-shim-remoteproc-v1/);
    const shim = join(root, "usr/local/bin/containerd-shim-remoteproc-v1");
    assert.ok(Deno.statSync(shim).mode! & 0o100);
    assert.equal(
      Deno.realPathSync(
        join(root, "usr/local/libexec/remoteproc-runtime/runc"),
      ),
      Deno.realPathSync(join(root, "usr/local/bin/remoteproc-runtime")),
    );
    const again = install(root, binary, "--containerd");
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stdout,
      /containerd-shim-remoteproc-v1: already installed/,
    );

    // A stand-in for containerd's runc shim reports the runc it would run
    // and its arguments. containerd runs the shim by its PATH entry, from
    // the bundle directory; the shim runs itself again from there.
    const fake = join(root, "fake");
    Deno.mkdirSync(fake);
    Deno.writeTextFileSync(
      join(fake, "containerd-shim-runc-v2"),
      '#!/bin/sh\necho "runc=$(command -v runc)"\necho "args=$*"\nrunc --version\n',
    );
    Deno.chmodSync(join(fake, "containerd-shim-runc-v2"), 0o755);
    const bundle = join(root, "bundle");
    Deno.mkdirSync(bundle);
    const out = new Deno.Command(shim, {
      args: ["-namespace", "ns", "-id", "c1", "start"],
      cwd: bundle,
      env: { PATH: `${fake}:/usr/bin:/bin` },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    const text = new TextDecoder();
    assert.equal(out.code, 0, text.decode(out.stderr));
    const lines = text.decode(out.stdout).split("\n");
    assert.equal(
      lines[0],
      `runc=${
        Deno.realPathSync(join(root, "usr/local/libexec/remoteproc-runtime"))
      }/runc`,
    );
    assert.equal(lines[1], "args=-namespace ns -id c1 start");
    assert.match(lines[2]!, /^remoteproc-runtime version /);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("containerd-shim-remoteproc-v1 without containerd's runc shim in PATH says so in one line", () => {
  const root = Deno.makeTempDirSync();
  try {
    const binary = join(root, "remoteproc-runtime");
    Deno.writeTextFileSync(binary, "#!/bin/sh\nexit 0\n");
    assert.equal(install(root, binary, "--docker").code, 0);
    const out = new Deno.Command(
      join(root, "usr/local/bin/containerd-shim-remoteproc-v1"),
      {
        args: ["start"],
        env: { PATH: "/nonexistent" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      },
    ).outputSync();
    assert.equal(out.code, 1);
    assert.equal(
      new TextDecoder().decode(out.stderr),
      "containerd-shim-remoteproc-v1: containerd-shim-runc-v2 (containerd's runc shim) is not in PATH (/nonexistent)\n",
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("install.sh --containerd keeps a remoteproc runtime of type io.containerd.remoteproc.v1 (the Go runtime's config)", () => {
  const root = Deno.makeTempDirSync();
  try {
    const binary = join(root, "remoteproc-runtime");
    Deno.writeTextFileSync(binary, `#!/bin/sh\nexec ${LAUNCHER} "$@"\n`);
    const upstream = [
      "version = 2",
      '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.remoteproc]',
      '  runtime_type = "io.containerd.remoteproc.v1"',
      '  pod_annotations = ["remoteproc.name"]',
      "",
    ].join("\n");
    Deno.mkdirSync(join(root, "etc/containerd"), { recursive: true });
    Deno.writeTextFileSync(join(root, "etc/containerd/config.toml"), upstream);
    const result = install(root, binary, "--containerd");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      Deno.readTextFileSync(join(root, "etc/containerd/config.toml")),
      upstream,
    );
    assert.ok(
      Deno.statSync(join(root, "usr/local/bin/containerd-shim-remoteproc-v1"))
        .isFile,
    );
    // Any other definition of that runtime is still refused.
    assert.throws(
      () =>
        containerdToml(
          upstream.replace(
            "io.containerd.remoteproc.v1",
            "io.containerd.runc.v2",
          ),
          "/a",
        ),
      /outside the managed block/,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("install.sh configures engines even with REMOTEPROC_RUNTIME_SYSROOT in its environment", () => {
  const root = Deno.makeTempDirSync();
  try {
    const binary = join(root, "remoteproc-runtime");
    Deno.writeTextFileSync(binary, `#!/bin/sh\nexec ${LAUNCHER} "$@"\n`);
    const result = installWith(
      { REMOTEPROC_RUNTIME_SYSROOT: join(root, "sysroot") },
      root,
      binary,
      "--containerd",
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    assert.match(
      Deno.readTextFileSync(join(root, "etc/containerd/config.toml")),
      /BinaryName = "\/usr\/local\/bin\/remoteproc-runtime"/,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
