/**
 * Small tmpfs mounts for tests of a full or read-only state root (the tests
 * run as root). Every mount a test makes is undone in its `finally`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";

function mountCommand(args: string[]): void {
  const out = new Deno.Command("/usr/bin/mount", { args, stderr: "piped" })
    .outputSync();
  assert.ok(
    out.success,
    `mount ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
  );
}

/**
 * Mounts a tmpfs on `dir` (made if missing).
 *
 * @param dir The mount point.
 * @param options Size in KiB (default 1024) and whether it is read-only.
 */
export function mountTmpfs(
  dir: string,
  options: { sizeKiB?: number; readOnly?: boolean } = {},
): void {
  Deno.mkdirSync(dir, { recursive: true });
  const flags = [`size=${options.sizeKiB ?? 1024}k`, "mode=0755"];
  if (options.readOnly) flags.push("ro");
  mountCommand(["-t", "tmpfs", "-o", flags.join(","), "tmpfs", dir]);
}

/**
 * Shows `source` read-only at `target` (made if missing): a read-only bind
 * mount, which works while files under `source` are open for writing (a
 * remount would fail with EBUSY).
 *
 * @param source The directory to show.
 * @param target The mount point.
 */
export function bindReadOnly(source: string, target: string): void {
  Deno.mkdirSync(target, { recursive: true });
  mountCommand(["--bind", source, target]);
  mountCommand(["-o", "remount,bind,ro", target]);
}

/**
 * Fills a mounted tmpfs until a write fails with ENOSPC.
 *
 * @param dir The mount point.
 */
export function fill(dir: string): void {
  const file = Deno.openSync(join(dir, "filler"), {
    write: true,
    create: true,
  });
  const block = new Uint8Array(4096);
  try {
    for (;;) file.writeSync(block);
  } catch (error) {
    assert.ok(error instanceof Error && /No space left/.test(error.message));
  } finally {
    file.close();
  }
}

/**
 * Unmounts `dir`; does nothing when nothing is mounted there. A proxy that
 * was just killed may hold a file on it for a moment (`EBUSY`): retried for
 * up to 5 s.
 *
 * @param dir The mount point.
 */
export function unmount(dir: string): void {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const out = new Deno.Command("/usr/bin/umount", {
      args: [dir],
      stderr: "piped",
    }).outputSync();
    const text = new TextDecoder().decode(out.stderr);
    if (out.success || /not mounted|no mount point/.test(text)) return;
    if (Date.now() > deadline) throw new Error(`umount ${dir}: ${text}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}
