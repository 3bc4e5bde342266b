/**
 * Runs core/firmware/rootfs.ts over a few prepared rootfs changes and prints, as
 * JSON, what each gave: the bytes and mode of the copy, or the error. Run
 * with and without `--allow-ffi` by tests/rootfs_test.ts, which expects the
 * same answers from the descriptor path and the path-based fallback.
 *
 * Usage: rootfs_checks.ts <temp dir>
 *
 * @module
 */
import { join } from "node:path";
import {
  openFirmwareSource,
  rootfsIdentity,
} from "../../core/firmware/rootfs.ts";
import { makeSymlinks } from "../../sim/symlinks.ts";

const tmp = Deno.args[0]!;
const outcomes: Record<string, unknown> = {
  ffi: Deno.permissions.querySync({ name: "ffi" }).state,
};

/** A fresh rootfs with fw.elf; `change` runs after its identity is taken. */
function attempt(name: string, change: (rootfs: string) => void): void {
  const rootfs = join(tmp, name, "rootfs");
  Deno.mkdirSync(rootfs, { recursive: true });
  Deno.writeTextFileSync(join(rootfs, "fw.elf"), `firmware of ${name}`);
  Deno.chmodSync(join(rootfs, "fw.elf"), 0o4777);
  const identity = rootfsIdentity(rootfs);
  change(rootfs);
  const target = join(tmp, name, "stored.elf");
  try {
    const source = openFirmwareSource(rootfs, join(rootfs, "fw.elf"), identity);
    try {
      source.copyTo(target);
    } finally {
      source.close();
    }
    outcomes[name] = {
      copied: Deno.readTextFileSync(target),
      mode: (Deno.statSync(target).mode! & 0o7777).toString(8),
    };
  } catch (error) {
    outcomes[name] = {
      error: `${(error as Error).name}: ${(error as Error).message}`,
    };
  }
}

attempt("intact", () => {});
attempt("rootfs-link", (rootfs) => {
  Deno.renameSync(rootfs, `${rootfs}.real`);
  makeSymlinks([[`${rootfs}.real`, rootfs]]);
});
attempt("rootfs-other", (rootfs) => {
  Deno.renameSync(rootfs, `${rootfs}.old`);
  Deno.mkdirSync(rootfs);
  Deno.writeTextFileSync(join(rootfs, "fw.elf"), "another image");
});
attempt("firmware-link", (rootfs) => {
  Deno.renameSync(join(rootfs, "fw.elf"), join(rootfs, "real.elf"));
  makeSymlinks([["real.elf", join(rootfs, "fw.elf")]]);
});
attempt("target-exists", (rootfs) => {
  Deno.writeTextFileSync(join(rootfs, "..", "stored.elf"), "already here");
});
Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(outcomes)));
