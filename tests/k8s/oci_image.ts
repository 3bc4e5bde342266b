/**
 * Builds the CRI tier's images without a builder: an OCI image archive (the
 * image layout as a tar, what `podman save --format oci-archive` writes)
 * holding one uncompressed layer, for `ctr -n k8s.io images import`. It is
 * the image of a `FROM scratch` Containerfile that copies the files in and
 * sets `ENTRYPOINT`. The manifest carries `io.containerd.image.name`, so the
 * import names it.
 *
 *   deno run -P=demo tests/k8s/oci_image.ts OUT.tar NAME ENTRYPOINT FILE=SRC...
 *
 * @module
 */
import { basename } from "node:path";

const BLOCK = 512;
const encoder = new TextEncoder();

/** One file of a tar archive. */
export interface TarEntry {
  /** Path inside the archive (relative, `/`-separated). */
  name: string;
  /** Contents; a directory when undefined. */
  data?: Uint8Array;
  /** Permission bits (default 0644, directories 0755). */
  mode?: number;
}

/**
 * Writes a ustar archive: owner 0:0, mtime 0, so the same input gives the
 * same bytes (and digest).
 *
 * @param entries Files and directories, in order.
 * @returns The archive.
 */
export function tar(entries: TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    const isDir = entry.data === undefined;
    const data = entry.data ?? new Uint8Array();
    const header = new Uint8Array(BLOCK);
    const put = (offset: number, length: number, text: string) => {
      const bytes = encoder.encode(text);
      if (bytes.length > length) throw new Error(`tar: ${text} too long`);
      header.set(bytes, offset);
    };
    const octal = (offset: number, length: number, value: number) =>
      put(offset, length, value.toString(8).padStart(length - 1, "0"));
    put(0, 100, isDir ? `${entry.name.replace(/\/$/, "")}/` : entry.name);
    octal(100, 8, entry.mode ?? (isDir ? 0o755 : 0o644));
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, data.length);
    octal(136, 12, 0);
    put(148, 8, "        ");
    put(156, 1, isDir ? "5" : "0");
    put(257, 6, "ustar\0");
    put(263, 2, "00");
    const sum = header.reduce((a, b) => a + b, 0);
    put(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
    parts.push(header, data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(2 * BLOCK));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function sha256(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    data as Uint8Array<ArrayBuffer>,
  );
  return `sha256:${
    [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0"))
      .join("")
  }`;
}

/** The OCI architecture of this machine. */
export function ociArch(): string {
  return { x86_64: "amd64", aarch64: "arm64" }[Deno.build.arch] ??
    Deno.build.arch;
}

/** Options of {@linkcode ociArchive}. */
export interface ImageOptions {
  /** The full image name (`localhost/rprt-fw:test`). */
  name: string;
  /** `ENTRYPOINT`. */
  entrypoint: string[];
  /** Files of the single layer: path in the image -> contents. */
  files: Record<string, Uint8Array>;
}

/**
 * An OCI image archive of a `FROM scratch` image.
 *
 * @param options Name, entrypoint and files.
 * @returns The archive's bytes.
 */
export async function ociArchive(options: ImageOptions): Promise<Uint8Array> {
  const layer = tar(
    Object.entries(options.files).map(([name, data]) => ({
      name: name.replace(/^\/+/, ""),
      data,
      mode: 0o644,
    })),
  );
  const layerDigest = await sha256(layer);
  const config = encoder.encode(JSON.stringify({
    architecture: ociArch(),
    os: "linux",
    config: { Entrypoint: options.entrypoint, WorkingDir: "/" },
    rootfs: { type: "layers", diff_ids: [layerDigest] },
  }));
  const configDigest = await sha256(config);
  const manifest = encoder.encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: configDigest,
      size: config.length,
    },
    layers: [{
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      digest: layerDigest,
      size: layer.length,
    }],
  }));
  const manifestDigest = await sha256(manifest);
  const index = encoder.encode(JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: manifestDigest,
      size: manifest.length,
      annotations: {
        "io.containerd.image.name": options.name,
        "org.opencontainers.image.ref.name": options.name.split(":").at(-1),
      },
    }],
  }));
  const blob = (digest: string) => `blobs/sha256/${digest.slice(7)}`;
  return tar([
    {
      name: "oci-layout",
      data: encoder.encode('{"imageLayoutVersion":"1.0.0"}'),
    },
    { name: "index.json", data: index },
    { name: "blobs" },
    { name: "blobs/sha256" },
    { name: blob(layerDigest), data: layer },
    { name: blob(configDigest), data: config },
    { name: blob(manifestDigest), data: manifest },
  ]);
}

if (import.meta.main) {
  const [out, name, entrypoint, ...files] = Deno.args;
  if (!out || !name || !entrypoint) {
    throw new Error(
      "usage: oci_image.ts OUT.tar NAME ENTRYPOINT [PATH=SOURCE...]",
    );
  }
  const contents: Record<string, Uint8Array> = {};
  for (const spec of files) {
    const eq = spec.indexOf("=");
    const path = eq < 0 ? basename(spec) : spec.slice(0, eq);
    contents[path] = Deno.readFileSync(eq < 0 ? spec : spec.slice(eq + 1));
  }
  Deno.writeFileSync(
    out,
    await ociArchive({ name, entrypoint: [entrypoint], files: contents }),
  );
}
